import { Button } from "../common/Button";
import { PlusIcon } from "../common/icons";

/** What the list shows before the first document exists (the only "New canvas" button then). */
export function EmptyState({ onCreate }: { onCreate: () => void }) {
  return (
    <div className="mx-auto mt-24 flex max-w-sm flex-col items-center gap-3 rounded-lg border border-dashed border-neutral-700 px-6 py-10 text-center">
      <svg
        width="40"
        height="40"
        viewBox="0 0 16 16"
        fill="none"
        stroke="currentColor"
        className="text-neutral-500"
        aria-hidden="true"
      >
        <rect x="2" y="3" width="12" height="10" rx="1.5" />
        <path d="M5 10.5l2-2 1.5 1.5 2.5-2.5" />
      </svg>
      <h1 className="text-base font-semibold">No canvases yet</h1>
      <p className="text-xs text-neutral-400">Create a canvas to start painting, alone or with others.</p>
      <Button variant="primary" onClick={onCreate}>
        <PlusIcon />
        New canvas
      </Button>
    </div>
  );
}
