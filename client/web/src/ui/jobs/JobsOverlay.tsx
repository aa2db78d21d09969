import { isActive, type JobEntry, kindName } from "../../jobs/board";
import { useEditorStore } from "../../store/editorStore";
import type { DocumentSession } from "../../document/session";
import { docToScreen } from "../presence/followCamera";
import { useJobs } from "./useJobs";

function percent(job: JobEntry): string {
  return job.state === "queued" ? "queued" : `${Math.round(job.progress)}%`;
}

function RegionProgress({ job, left, top, width, height }: { job: JobEntry; left: number; top: number; width: number; height: number }) {
  const who = job.name || job.user;
  return (
    <div
      data-testid="job-region"
      data-job-id={job.id}
      className="absolute top-0 left-0 rounded-sm border-2 border-dashed border-violet-400 bg-violet-500/15"
      style={{ transform: `translate(${left}px, ${top}px)`, width, height }}
    >
      <div className="absolute inset-x-0 bottom-0 h-1 bg-violet-950/60">
        <div className="h-full bg-violet-400 transition-[width] duration-300" style={{ width: `${job.state === "queued" ? 0 : job.progress}%` }} />
      </div>
      <span className="absolute -top-5 left-0 max-w-[16rem] truncate whitespace-nowrap rounded bg-violet-600 px-1.5 py-0.5 text-[10px] leading-none font-medium text-white shadow">
        {kindName(job.kind)} · {percent(job)}
        {who ? ` · ${who}` : ""}
      </span>
    </div>
  );
}

/**
 * Over the canvas area (fill it: the parent must be positioned): each queued or running job,
 * as a box on the canvas region it covers with its progress, or, for a job on the whole
 * canvas, a small badge at the canvas's top-left corner (kept in view).
 */
export function JobsOverlay({ session }: { session: DocumentSession }) {
  const jobs = useJobs(session).filter((j) => isActive(j.state));
  const camera = useEditorStore((s) => s.camera);
  if (jobs.length === 0) return null;
  const regional = jobs.filter((j) => j.region !== null);
  const whole = jobs.filter((j) => j.region === null);
  const [originX, originY] = docToScreen(camera, 0, 0);

  return (
    <div data-testid="jobs-overlay" className="pointer-events-none absolute inset-0 z-10 overflow-hidden">
      {regional.map((job) => {
        const r = job.region;
        if (!r) return null;
        const [left, top] = docToScreen(camera, r.x, r.y);
        return <RegionProgress key={job.id} job={job} left={left} top={top} width={r.width * camera.zoom} height={r.height * camera.zoom} />;
      })}
      {whole.length > 0 ? (
        <div
          className="absolute top-0 left-0 flex flex-col gap-1"
          style={{ transform: `translate(${Math.max(8, originX + 6)}px, ${Math.max(8, originY + 6)}px)` }}
        >
          {whole.map((job) => (
            <div
              key={job.id}
              data-testid="job-badge"
              data-job-id={job.id}
              className="flex items-center gap-1.5 rounded-full bg-violet-600/90 px-2 py-0.5 text-[10px] font-medium text-white shadow"
            >
              <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-white" aria-hidden="true" />
              <span>
                {kindName(job.kind)} · {percent(job)}
              </span>
              <span className="h-1 w-10 overflow-hidden rounded-full bg-violet-950/60" aria-hidden="true">
                <span className="block h-full bg-white" style={{ width: `${job.state === "queued" ? 0 : job.progress}%` }} />
              </span>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
