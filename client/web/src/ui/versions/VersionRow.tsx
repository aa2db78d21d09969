import { type VersionSummary, versionThumbnailUrl } from "../../api/rest";
import { CHECKERBOARD_SMALL } from "../common/checkerboard";
import { absoluteTime, relativeTime } from "../common/relativeTime";
import { versionTitle } from "./versionsView";

export interface VersionRowProps {
  docId: string;
  version: VersionSummary;
  now: number;
  /** false for a viewer: no restore */
  canRestore: boolean;
  busy: boolean;
  onPreview: (version: VersionSummary) => void;
  onRestore: (version: VersionSummary) => void;
}

/** One version: its thumbnail (opens the preview), name, age, and restore. */
export function VersionRow({ docId, version, now, canRestore, busy, onPreview, onRestore }: VersionRowProps) {
  const title = versionTitle(version);
  return (
    <li className="flex items-center gap-2 border-b border-neutral-700/50 px-3 py-1.5" data-version-id={version.id}>
      <button
        type="button"
        aria-label={`Preview '${title}'`}
        title={`Preview '${title}'`}
        onClick={() => onPreview(version)}
        className={`flex h-10 w-10 shrink-0 items-center justify-center overflow-hidden rounded border border-neutral-600 hover:border-blue-500 ${CHECKERBOARD_SMALL}`}
      >
        <img
          src={versionThumbnailUrl(docId, version.id, 80)}
          alt=""
          loading="lazy"
          draggable={false}
          className="max-h-full max-w-full object-contain"
        />
      </button>
      <div className="min-w-0 flex-1">
        <div className="flex items-center gap-1">
          <span className="truncate" title={title}>
            {title}
          </span>
          {version.kind === "auto" ? (
            <span className="shrink-0 rounded bg-neutral-700 px-1 text-[10px] text-neutral-400">auto</span>
          ) : null}
        </div>
        <div className="text-[10px] text-neutral-400" title={absoluteTime(version.createdAt)}>
          {relativeTime(version.createdAt, now)}
        </div>
      </div>
      {canRestore ? (
        <button
          type="button"
          disabled={busy}
          aria-label={`Restore '${title}'`}
          title="Make the canvas look like this version again (one undoable change)"
          onClick={() => onRestore(version)}
          className="shrink-0 rounded border border-neutral-600 px-1.5 py-0.5 text-[11px] text-neutral-200 hover:bg-neutral-700 disabled:opacity-50"
        >
          Restore
        </button>
      ) : null}
    </li>
  );
}
