import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { Button } from "../common/Button";
import { useSessionValue } from "../common/useSessionValue";
import { submitRemoveBackground } from "./aiApi";
import { JobStatus } from "./JobStatus";
import { useJobRun } from "./useJobRun";

/** Remove the background of the selected raster layer; the cut-out lands as a new layer. */
export function RemoveBackgroundSection({ session, stage }: { session: DocumentSession; stage: boolean }) {
  const activeId = useEditorStore((s) => s.activeLayerId);
  const layers = useSessionValue(session, (s) => s.canvas.readLayers());
  const layer = layers.find((l) => l.id === activeId) ?? null;
  const run = useJobRun((job) => {
    if (job.layer_id && session.canvas.getLayer(job.layer_id)) useEditorStore.getState().setActiveLayer(job.layer_id);
  });
  const refusal = !layer
    ? "Select a raster layer first"
    : layer.kind !== "raster"
      ? `Layer '${layer.name}' is a ${layer.kind} layer: background removal works on raster layers`
      : !layer.blob
        ? `Layer '${layer.name}' holds no image yet`
        : null;

  const remove = () => {
    if (refusal || !layer) {
      run.refuse(refusal ?? "Select a raster layer first");
      return;
    }
    void run.start(() => submitRemoveBackground(session.docId, { layer_id: layer.id, stage }));
  };

  return (
    <div className="flex flex-col gap-1.5">
      <p className="text-[11px] text-neutral-400">
        {layer ? (
          <>
            Layer: <span className="text-neutral-200">{layer.name || "(unnamed)"}</span>
          </>
        ) : (
          "No layer selected"
        )}
      </p>
      <Button variant="primary" onClick={remove} disabled={run.busy} title={refusal ?? undefined}>
        {run.busy ? "Removing…" : "Remove background"}
      </Button>
      {refusal && !run.error ? <p className="text-[11px] text-neutral-500">{refusal}</p> : null}
      <JobStatus run={run} done={stage ? "The cut-out is a proposal layer for review" : "The cut-out is a new layer"} />
    </div>
  );
}
