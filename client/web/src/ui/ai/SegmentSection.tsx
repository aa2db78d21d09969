import { useState } from "react";
import { discardProposal } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { useMaskStore } from "../../store/maskStore";
import { Button } from "../common/Button";
import { ErrorText } from "../common/ErrorText";
import { describeError, type JobView, maskFromBlob, submitSegment } from "./aiApi";
import { Choice } from "./fields";
import { JobStatus } from "./JobStatus";
import { sourceField } from "./source";
import { useJobRun } from "./useJobRun";
import { checkSegmentPoints } from "./validate";

/**
 * Segment by click: points on the canvas (click: the object; Alt/Shift + click: not the
 * object), then the server's mask previewed over the canvas (green), to use as the fill mask.
 */
export function SegmentSection({ session, stage, source }: { session: DocumentSession; stage: boolean; source: string }) {
  const tool = useEditorStore((s) => s.tool);
  const setTool = useEditorStore((s) => s.setTool);
  const points = useMaskStore((s) => s.segmentPoints);
  const preview = useMaskStore((s) => s.preview);
  const [output, setOutput] = useState<"mask" | "cutout">("mask");
  const [result, setResult] = useState<JobView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const run = useJobRun((job) => {
    setResult(job);
    const blob = job.result?.blob;
    const engine = useMaskStore.getState().engine;
    if (!blob || !engine) return;
    maskFromBlob(blob, engine.width, engine.height).then(
      (mask) => useMaskStore.getState().setPreview(mask),
      (error: unknown) => setProblem(describeError(error)),
    );
  });
  const picking = tool === "segment-points";

  const segment = () => {
    const engine = useMaskStore.getState().engine;
    if (!engine) return;
    const message = checkSegmentPoints(points, engine.width, engine.height);
    if (message) {
      run.refuse(message);
      return;
    }
    setResult(null);
    setProblem(null);
    useMaskStore.getState().setPreview(null);
    void run.start(() =>
      submitSegment(session.docId, {
        points: points.map((p) => [p.x, p.y]),
        point_labels: points.map((p) => (p.positive ? 1 : 0)),
        output,
        ...sourceField(source),
        stage,
      }),
    );
  };

  /** The result layer was only wanted as a mask: drop it when it is still a proposal. */
  const dropProposal = async () => {
    const id = result?.layer_id;
    const layer = id ? session.canvas.getLayer(id) : null;
    if (!layer?.proposal) return;
    try {
      await discardProposal(session.docId, layer.id);
    } catch (error) {
      setProblem(describeError(error));
    }
  };

  const applyAsMask = () => {
    const { engine, preview: shown } = useMaskStore.getState();
    if (!engine || !shown) return;
    engine.setAll(shown);
    useMaskStore.getState().setPreview(null);
    useMaskStore.getState().clearSegmentPoints();
    void dropProposal();
  };

  const dismiss = () => {
    useMaskStore.getState().setPreview(null);
    void dropProposal();
  };

  return (
    <div className="flex flex-col gap-1.5">
      <div className="flex items-center gap-1.5">
        <Button aria-pressed={picking} variant={picking ? "primary" : "secondary"} onClick={() => setTool(picking ? "brush" : "segment-points")}>
          {picking ? "Picking points…" : "Pick points"}
        </Button>
        <Button variant="ghost" disabled={points.length === 0} onClick={() => useMaskStore.getState().clearSegmentPoints()}>
          Clear points
        </Button>
      </div>
      <p className="text-[11px] text-neutral-500">
        Click the object on the canvas; Alt + click marks what is not the object. {points.length} point
        {points.length === 1 ? "" : "s"} ({points.filter((p) => p.positive).length} object).
      </p>
      <div className="flex items-center gap-2">
        <span className="text-[11px] text-neutral-400">Result</span>
        <Choice
          label="Segmentation output"
          value={output}
          options={[
            { value: "mask", label: "Mask" },
            { value: "cutout", label: "Cut-out" },
          ]}
          onChange={setOutput}
        />
      </div>
      <Button variant="primary" onClick={segment} disabled={run.busy}>
        {run.busy ? "Segmenting…" : "Segment"}
      </Button>
      <JobStatus run={run} />
      {preview ? (
        <div className="flex flex-col gap-1 rounded border border-green-800 bg-green-950/40 p-1.5">
          <p className="text-[11px] text-green-200">The object is previewed in green on the canvas.</p>
          <div className="flex gap-1.5">
            <Button variant="primary" onClick={applyAsMask}>
              Use as fill mask
            </Button>
            <Button variant="ghost" onClick={dismiss}>
              Dismiss
            </Button>
          </div>
          <p className="text-[10px] text-neutral-500">
            {stage ? "Its layer waits as a proposal (accept it to keep it as a new layer); using the mask or dismissing discards it." : "Its layer was added to the document."}
          </p>
        </div>
      ) : null}
      <ErrorText error={problem} />
    </div>
  );
}
