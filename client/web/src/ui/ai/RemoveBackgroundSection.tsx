import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { Button } from "../common/Button";
import { submitRemoveBackground } from "./aiApi";
import { JobStatus } from "./JobStatus";
import { sourceField } from "./source";
import { useJobRun } from "./useJobRun";

/** Remove the background of the source (the composite, or the layer chosen above); the cut-out lands as a new layer. */
export function RemoveBackgroundSection({ session, stage, source }: { session: DocumentSession; stage: boolean; source: string }) {
  const run = useJobRun((job) => {
    if (job.layer_id && session.canvas.getLayer(job.layer_id)) useEditorStore.getState().setActiveLayer(job.layer_id);
  });

  const remove = () => {
    // a layer chosen as the source may have gone meanwhile: the server names it then
    void run.start(() => submitRemoveBackground(session.docId, { ...sourceField(source), stage }));
  };

  return (
    <div className="flex flex-col gap-1.5">
      <Button variant="primary" onClick={remove} disabled={run.busy}>
        {run.busy ? "Removing…" : "Remove background"}
      </Button>
      <JobStatus run={run} done={stage ? "The cut-out is a proposal layer for review" : "The cut-out is a new layer"} />
    </div>
  );
}
