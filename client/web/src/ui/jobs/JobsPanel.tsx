import { useState } from "react";
import { cancelJob } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { isActive, type JobEntry } from "../../jobs/board";
import { useEditorStore } from "../../store/editorStore";
import { errorMessage } from "../common/ErrorText";
import { useNow } from "../common/useNow";
import { useSessionValue } from "../common/useSessionValue";
import { useReadOnly } from "../proposals/useReadOnly";
import { JobRow } from "./JobRow";
import { useJobs } from "./useJobs";

function withoutKey(record: Readonly<Record<string, string>>, key: string): Record<string, string> {
  const next = { ...record };
  delete next[key];
  return next;
}

/** Every AI job of the document, live for every collaborator: the queue and what came of it. */
export function JobsPanel({ session }: { session: DocumentSession }) {
  const jobs = useJobs(session);
  const layerIds = useSessionValue(
    session,
    (s) => s.canvas.readLayers().map((l) => l.id).join("\n"),
    (c) => c.structure,
  );
  const setActiveLayer = useEditorStore((s) => s.setActiveLayer);
  const readOnly = useReadOnly(session);
  const running = jobs.filter((j) => isActive(j.state)).length;
  const now = useNow(running > 0 ? 1000 : 30_000);
  const [cancelling, setCancelling] = useState<ReadonlySet<string>>(new Set());
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const present = new Set(layerIds.split("\n"));

  const cancel = async (job: JobEntry) => {
    setErrors((e) => withoutKey(e, job.id));
    setCancelling((s) => new Set(s).add(job.id));
    try {
      await cancelJob(job.id);
    } catch (err) {
      setErrors((e) => ({ ...e, [job.id]: errorMessage(err) }));
      setCancelling((s) => {
        const next = new Set(s);
        next.delete(job.id);
        return next;
      });
    }
  };

  const review = (job: JobEntry) => {
    if (!job.layerId) return;
    setActiveLayer(job.layerId);
    session.presence.setLayer(job.layerId);
  };

  return (
    <section
      aria-label="Jobs"
      className="flex shrink-0 flex-col border-b border-neutral-700 bg-neutral-800 text-xs text-neutral-200"
    >
      <header className="flex items-center justify-between border-b border-neutral-700 px-3 py-2">
        <h2 className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">Jobs</h2>
        <span className="text-[11px] text-neutral-500">{running > 0 ? `${running} running` : jobs.length}</span>
      </header>
      {jobs.length === 0 ? (
        <p className="px-3 py-3 text-neutral-400">No AI jobs yet. Jobs anyone starts show here.</p>
      ) : (
        <ul aria-label="Job list" className="max-h-72 overflow-y-auto">
          {jobs.map((job) => (
            <JobRow
              key={job.id}
              job={job}
              now={now}
              mine={job.user === session.user.id}
              canCancel={!readOnly}
              cancelling={cancelling.has(job.id) && isActive(job.state)}
              error={errors[job.id] ?? null}
              onCancel={(j) => void cancel(j)}
              onReview={job.state === "done" && job.layerId && present.has(job.layerId) ? review : undefined}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
