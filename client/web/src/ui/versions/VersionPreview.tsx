import { type CSSProperties, useEffect, useState } from "react";
import { getVersion, type VersionCanvas, type VersionSummary, versionPreviewUrl } from "../../api/rest";
import { Button } from "../common/Button";
import { CHECKERBOARD } from "../common/checkerboard";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { Modal } from "../common/Modal";
import { absoluteTime } from "../common/relativeTime";
import { versionTitle } from "./versionsView";

/** The largest side of the preview image, in CSS pixels. */
const PREVIEW_PX = 560;

/** The scale at which the server renders a `width`×`height` version to fit the preview box
 * (never enlarged: a small canvas is enlarged by the browser instead, see `displayScale`). */
export function previewScale(width: number, height: number): number {
  const side = Math.max(width, height, 1);
  return Math.min(1, PREVIEW_PX / side);
}

/** How much the browser enlarges a small version's image (at most 4×) to fill the box. */
export function displayScale(width: number, height: number): number {
  const side = Math.max(width, height, 1);
  return Math.max(1, Math.min(4, Math.floor(PREVIEW_PX / side)));
}

function enlarged(width: number, height: number): CSSProperties | undefined {
  const by = displayScale(width, height);
  return by > 1 ? { width: width * by, height: height * by, imageRendering: "pixelated" } : undefined;
}

export interface VersionPreviewProps {
  docId: string;
  version: VersionSummary;
  canRestore: boolean;
  onRestore: (version: VersionSummary) => void;
  onClose: () => void;
}

/** A version, read-only: the server's rendering of it, its name, time, size and layers. */
export function VersionPreview({ docId, version, canRestore, onRestore, onClose }: VersionPreviewProps) {
  const [canvas, setCanvas] = useState<VersionCanvas | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [imageFailed, setImageFailed] = useState(false);
  const title = versionTitle(version);

  useEffect(() => {
    let live = true;
    getVersion(docId, version.id).then(
      (found) => live && setCanvas(found),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [docId, version.id]);

  const layerCount = canvas?.layers.length ?? 0;
  return (
    <Modal
      title={`Version: ${title}`}
      onClose={onClose}
      width="w-[640px]"
      footer={
        <>
          {canRestore ? (
            <Button variant="primary" onClick={() => onRestore(version)}>
              Restore this version
            </Button>
          ) : null}
          <Button onClick={onClose}>Close</Button>
        </>
      }
    >
      <div className="flex flex-col gap-2" data-testid="version-preview">
        <div className="flex flex-wrap gap-x-3 text-xs text-neutral-400">
          <span>{version.kind === "named" ? "Named version" : "Automatic version"}</span>
          <span>{absoluteTime(version.createdAt)}</span>
          {canvas ? (
            <span>
              {canvas.meta.width}×{canvas.meta.height} · {layerCount} {layerCount === 1 ? "layer" : "layers"}
            </span>
          ) : null}
          <span className="text-neutral-500">read-only</span>
        </div>
        <ErrorText error={error} />
        <div className={`flex min-h-40 items-center justify-center overflow-hidden rounded ${CHECKERBOARD}`}>
          {canvas && !imageFailed ? (
            <img
              src={versionPreviewUrl(docId, version.id, previewScale(canvas.meta.width, canvas.meta.height))}
              alt={`The canvas as it was in '${title}'`}
              onError={() => setImageFailed(true)}
              style={enlarged(canvas.meta.width, canvas.meta.height)}
              className="max-h-[60vh] max-w-full object-contain"
            />
          ) : null}
          {imageFailed ? <p className="p-4 text-xs text-neutral-300">The server could not render this version.</p> : null}
          {!canvas && !error ? <p className="p-4 text-xs text-neutral-400">Loading…</p> : null}
        </div>
      </div>
    </Modal>
  );
}
