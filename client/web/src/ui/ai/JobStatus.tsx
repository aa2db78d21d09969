import { ErrorText } from "../common/ErrorText";
import type { JobRun } from "./useJobRun";

const WORDS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled" } as const;

/** The state of a panel's last request: progress while it runs, the error as the server wrote it. */
export function JobStatus({ run, done }: { run: JobRun; done?: string }) {
  const job = run.job;
  return (
    <div className="flex flex-col gap-1" aria-live="polite">
      {job && job.state !== "failed" ? (
        <div data-testid="ai-job-status" data-state={job.state} className="flex items-center gap-2 text-[11px] text-neutral-300">
          <span className="w-16 shrink-0">{WORDS[job.state]}</span>
          <div className="h-1.5 flex-1 overflow-hidden rounded bg-neutral-700">
            <div className="h-full bg-blue-500 transition-[width]" style={{ width: `${job.state === "done" ? 100 : job.progress}%` }} />
          </div>
          <span className="w-8 text-right tabular-nums">{Math.round(job.state === "done" ? 100 : job.progress)}%</span>
        </div>
      ) : null}
      {job?.state === "done" && done ? <p className="text-[11px] text-green-300">{done}</p> : null}
      <ErrorText error={run.error} />
    </div>
  );
}
