import { isMacPlatform, shortcutText } from "../../tools/keyboard";
import type { UndoRedo } from "./useUndoRedo";

function Arrow({ flip }: { flip?: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      style={flip ? { transform: "scaleX(-1)" } : undefined}
    >
      <path d="M9 14 4 9l5-5" />
      <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
    </svg>
  );
}

export function UndoRedoButtons({ history }: { history: UndoRedo }) {
  const mac = isMacPlatform();
  const undoLabel = `Undo (${shortcutText("edit.undo", mac)})`;
  const redoLabel = `Redo (${shortcutText("edit.redo", mac)})`;
  const button =
    "flex h-7 w-7 items-center justify-center rounded text-neutral-300 hover:bg-neutral-700 hover:text-white disabled:cursor-not-allowed disabled:opacity-35 disabled:hover:bg-transparent";
  return (
    <div className="flex items-center">
      <button
        type="button"
        aria-label="Undo"
        title={undoLabel}
        disabled={!history.canUndo || history.busy}
        onClick={history.undo}
        className={button}
      >
        <Arrow />
      </button>
      <button
        type="button"
        aria-label="Redo"
        title={redoLabel}
        disabled={!history.canRedo || history.busy}
        onClick={history.redo}
        className={button}
      >
        <Arrow flip />
      </button>
    </div>
  );
}
