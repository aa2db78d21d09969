import { useEffect } from "react";
import { useEditorStore } from "../../store/editorStore";

const SHOW_MS = 4000;

/** The store's hint as a toast near the bottom of the canvas, cleared after a few seconds. */
export function HintToast() {
  const hint = useEditorStore((s) => s.hint);
  const showHint = useEditorStore((s) => s.showHint);

  useEffect(() => {
    if (!hint) return;
    const timer = window.setTimeout(() => showHint(null), SHOW_MS);
    return () => window.clearTimeout(timer);
  }, [hint, showHint]);

  return (
    <div aria-live="polite" className="pointer-events-none absolute inset-x-0 bottom-6 flex justify-center">
      {hint ? (
        <div
          role="status"
          data-testid="hint-toast"
          className="pointer-events-auto flex max-w-[80%] items-center gap-3 rounded-md border border-neutral-600 bg-neutral-800/95 px-3 py-2 text-sm text-neutral-100 shadow-lg"
        >
          <span>{hint}</span>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => showHint(null)}
            className="text-neutral-400 hover:text-white"
          >
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}
