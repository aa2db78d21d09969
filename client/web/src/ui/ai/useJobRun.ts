import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, getJob, isFinal, type JobView } from "./aiApi";

const POLL_MS = 400;

export interface JobRun {
  /** the job as last read, or null before a submit */
  job: JobView | null;
  /** the refusal or failure to show (the server's text), or null */
  error: string | null;
  busy: boolean;
  /** submit (the promise resolves to the queued job) and follow the job until it ends */
  start(submit: () => Promise<JobView>): Promise<void>;
  /** show a message (a client-side check) and forget the last job */
  refuse(message: string): void;
  reset(): void;
}

/**
 * One AI request of a panel: submit it, then poll `GET /api/jobs/{id}` until the job ends;
 * `onDone` gets the finished job once.
 */
export function useJobRun(onDone?: (job: JobView) => void): JobRun {
  const [job, setJob] = useState<JobView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useRef(0);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  useEffect(
    () => () => {
      run.current++; // stop polling when the panel goes
    },
    [],
  );

  const start = useCallback(async (submit: () => Promise<JobView>) => {
    const mine = ++run.current;
    setError(null);
    setJob(null);
    setBusy(true);
    try {
      let current = await submit();
      if (mine !== run.current) return;
      setJob(current);
      while (!isFinal(current.state)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (mine !== run.current) return;
        current = await getJob(current.id);
        if (mine !== run.current) return;
        setJob(current);
      }
      if (current.state === "failed") setError(current.error ?? "the job failed");
      if (current.state === "done") doneRef.current?.(current);
    } catch (caught) {
      if (mine === run.current) setError(describeError(caught));
    } finally {
      if (mine === run.current) setBusy(false);
    }
  }, []);

  const refuse = useCallback((message: string) => {
    run.current++;
    setJob(null);
    setBusy(false);
    setError(message);
  }, []);

  const reset = useCallback(() => {
    run.current++;
    setJob(null);
    setBusy(false);
    setError(null);
  }, []);

  return { job, error, busy, start, refuse, reset };
}
