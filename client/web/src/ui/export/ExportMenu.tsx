import { useEffect, useRef, useState } from "react";
import { exportUrl } from "../../api/rest";
import { exportFileName } from "./fileName";

const FORMATS = [
  {
    format: "png",
    extension: "png",
    label: "PNG",
    note: "lossless, transparency",
  },
  {
    format: "jpeg",
    extension: "jpg",
    label: "JPEG",
    note: "on white, smaller",
  },
  {
    format: "webp",
    extension: "webp",
    label: "WebP",
    note: "small, transparency",
  },
] as const;

/** Download the flattened canvas, rendered by the server. */
export function ExportMenu({ docId, docName }: { docId: string; docName: string }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (event: PointerEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setOpen(false);
    };
    window.addEventListener("pointerdown", onDown);
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("pointerdown", onDown);
      window.removeEventListener("keydown", onKey);
    };
  }, [open]);

  return (
    <div ref={ref} className="relative">
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
        className="rounded border border-neutral-600 bg-neutral-700 px-2.5 py-1 text-xs font-medium text-neutral-100 hover:bg-neutral-600"
      >
        Export
      </button>
      {open ? (
        <div
          role="menu"
          aria-label="Export as"
          className="absolute right-0 z-30 mt-1 w-52 rounded-md border border-neutral-600 bg-neutral-800 py-1 shadow-xl"
        >
          {FORMATS.map((entry) => (
            <a
              key={entry.format}
              role="menuitem"
              href={exportUrl(docId, entry.format)}
              download={exportFileName(docName, entry.extension)}
              onClick={() => setOpen(false)}
              className="flex items-baseline justify-between px-3 py-1.5 text-sm text-neutral-100 hover:bg-neutral-700"
            >
              <span>{entry.label}</span>
              <span className="text-[11px] text-neutral-400">{entry.note}</span>
            </a>
          ))}
        </div>
      ) : null}
    </div>
  );
}
