import { useState } from "react";
import { type DocSummary, thumbnailUrl } from "../../api/rest";
import { IconButton } from "../common/Button";
import { PencilIcon, TrashIcon } from "../common/icons";
import { absoluteTime, relativeTime } from "../common/relativeTime";
import { CHECKERBOARD } from "../common/checkerboard";
import { InlineRename } from "../common/InlineRename";

export interface DocCardProps {
  doc: DocSummary;
  now: number;
  onOpen: (id: string) => void;
  /** resolves when renamed; rejects with the server's error */
  onRename: (id: string, name: string) => Promise<void>;
  onDelete: (doc: DocSummary) => void;
}

/** One document in the list: thumbnail (opens it), name (rename inline), last change. */
export function DocCard({ doc, now, onOpen, onRename, onDelete }: DocCardProps) {
  const [renaming, setRenaming] = useState(false);

  return (
    <li data-testid="doc-card" className="group flex flex-col overflow-hidden rounded-lg border border-neutral-700 bg-neutral-800 transition-colors hover:border-neutral-500">
      <button
        type="button"
        aria-label={`Open '${doc.name}'`}
        onClick={() => onOpen(doc.id)}
        className={`flex aspect-[4/3] items-center justify-center overflow-hidden ${CHECKERBOARD}`}
      >
        <img
          src={thumbnailUrl(doc.id, doc.updatedAt)}
          alt=""
          loading="lazy"
          decoding="async"
          className="max-h-full max-w-full object-contain"
        />
      </button>
      <div className="flex items-start gap-1 border-t border-neutral-700 px-2 py-1.5">
        <div className="min-w-0 flex-1">
          {renaming ? (
            <InlineRename
              initial={doc.name}
              label="Document name"
              onCommit={async (name) => {
                await onRename(doc.id, name);
                setRenaming(false);
              }}
              onCancel={() => setRenaming(false)}
            />
          ) : (
            <div
              className="truncate text-sm font-medium text-neutral-100"
              title={`${doc.name} — double-click to rename`}
              onDoubleClick={() => setRenaming(true)}
            >
              {doc.name}
            </div>
          )}
          <div className="truncate text-xs text-neutral-400">
            <span title={absoluteTime(doc.updatedAt)}>{relativeTime(doc.updatedAt, now)}</span>
            <span className="text-neutral-500">
              {" · "}
              {doc.width}×{doc.height}
            </span>
          </div>
        </div>
        <div className="flex opacity-60 transition-opacity group-hover:opacity-100">
          <IconButton label={`Rename '${doc.name}'`} onClick={() => setRenaming(true)}>
            <PencilIcon />
          </IconButton>
          <IconButton label={`Delete '${doc.name}'`} onClick={() => onDelete(doc)} className="hover:text-red-400">
            <TrashIcon />
          </IconButton>
        </div>
      </div>
    </li>
  );
}
