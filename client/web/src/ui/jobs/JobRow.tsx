import { elapsedMs, formatElapsed, inputsText, isActive, type JobEntry, kindName, labelDetail } from "../../jobs/board";
import { Button } from "../common/Button";
import { ErrorText } from "../common/ErrorText";

const STATE_STYLES: Record<JobEntry["state"], string> = {
  queued: "bg-neutral-700 text-neutral-200",
  running: "bg-blue-600/80 text-white",
  done: "bg-emerald-700/80 text-white",
  failed: "bg-red-700/80 text-white",
  cancelled: "bg-amber-700/80 text-white",
};

const BAR_STYLES: Record<JobEntry["state"], string> = {
  queued: "bg-neutral-500",
  running: "bg-blue-500",
  done: "bg-emerald-500",
  failed: "bg-red-500",
  cancelled: "bg-amber-500",
};

export interface JobRowProps {
  job: JobEntry;
  now: number;
  mine: boolean;
  /** the local person may try to cancel (the server decides) */
  canCancel: boolean;
  cancelling: boolean;
  error: string | null;
  onCancel: (job: JobEntry) => void;
  /** select the proposal or layer the job made (absent when it is gone) */
  onReview?: (job: JobEntry) => void;
}

/**
 * One job: kind, who, state, progress bar, elapsed; what it read; once done, its result's
 * name, which says what ran (a fallback is marked); cancel while it runs; the error if it failed.
 */
export function JobRow({ job, now, mine, canCancel, cancelling, error, onCancel, onReview }: JobRowProps) {
  const active = isActive(job.state);
  const elapsed = elapsedMs(job, now);
  const detail = labelDetail(job);
  const reads = inputsText(job);
  const outcome = job.state === "done" && job.method !== null ? job.label : "";
  const who = job.name || job.user || "someone";
  const progress = job.state === "done" ? 100 : job.progress;
  const stateText = job.state === "running" && cancelling ? "cancelling" : job.state;

  return (
    <li
      data-testid="job-row"
      data-job-id={job.id}
      data-state={job.state}
      aria-label={`${kindName(job.kind)} by ${who}: ${job.state}`}
      className="flex flex-col gap-1 border-b border-neutral-700/50 px-3 py-1.5"
    >
      <div className="flex items-center gap-2">
        <span className="min-w-0 flex-1 truncate font-medium" title={job.label}>
          {kindName(job.kind)}
          {job.stage ? <span className="ml-1 text-[10px] font-normal text-violet-300">proposal</span> : null}
        </span>
        <span className={`shrink-0 rounded px-1.5 py-0.5 text-[10px] leading-none ${STATE_STYLES[job.state]}`}>{stateText}</span>
      </div>
      {detail ? (
        <div className="truncate text-[11px] text-neutral-300" title={detail}>
          “{detail}”
        </div>
      ) : null}
      {outcome ? (
        <div data-testid="job-outcome" className="flex items-center gap-1 text-[11px] text-neutral-200" title={job.method ?? undefined}>
          <span className="min-w-0 truncate">{outcome}</span>
          {job.fallback ? (
            <span className="shrink-0 rounded bg-amber-800/70 px-1 text-[10px] text-amber-100" title={job.method ?? undefined}>
              fallback
            </span>
          ) : null}
        </div>
      ) : null}
      {reads ? (
        <div data-testid="job-inputs" className="truncate text-[10px] text-neutral-400" title={`Read: ${reads}`}>
          Read: {reads}
        </div>
      ) : null}
      <div
        role="progressbar"
        aria-label={`Progress of ${kindName(job.kind)}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(progress)}
        className="h-1.5 overflow-hidden rounded-full bg-neutral-700"
      >
        <div
          className={`h-full rounded-full transition-[width] duration-300 ${BAR_STYLES[job.state]} ${job.state === "queued" ? "animate-pulse" : ""}`}
          style={{ width: `${job.state === "queued" ? 100 : progress}%`, opacity: job.state === "queued" ? 0.4 : 1 }}
        />
      </div>
      <div className="flex items-center gap-1 text-[10px] text-neutral-400">
        <span className="truncate">{who}</span>
        {mine ? <span className="rounded bg-neutral-700 px-1 text-neutral-300">you</span> : null}
        {active ? <span>· {Math.round(progress)}%</span> : null}
        {elapsed !== null ? (
          <span className="ml-auto shrink-0 tabular-nums" title={job.state === "queued" ? "Waiting" : "Elapsed"}>
            {formatElapsed(elapsed)}
          </span>
        ) : null}
      </div>
      {job.state === "failed" ? <ErrorText error={job.error ?? "The job failed."} /> : null}
      {job.state === "cancelled" && job.error ? <p className="text-[10px] text-amber-300">{job.error}</p> : null}
      {error ? <ErrorText error={error} /> : null}
      {(active && canCancel) || onReview ? (
        <div className="flex justify-end gap-1.5">
          {onReview ? (
            <Button variant="ghost" className="py-0.5" onClick={() => onReview(job)}>
              {job.stage ? "Review proposal" : "Show layer"}
            </Button>
          ) : null}
          {active && canCancel ? (
            <Button
              variant="secondary"
              className="py-0.5"
              disabled={cancelling}
              aria-label={`Cancel ${kindName(job.kind)} by ${who}`}
              onClick={() => onCancel(job)}
            >
              {cancelling ? "Cancelling…" : "Cancel"}
            </Button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
