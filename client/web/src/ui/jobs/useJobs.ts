import { useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";
import { type JobEntry, observeJobs, readJobs } from "../../jobs/board";

/** The document's job board (newest first), live: every collaborator, late joiners too. */
export function useJobs(session: DocumentSession): JobEntry[] {
  const [jobs, setJobs] = useState<JobEntry[]>(() => readJobs(session.doc));
  useEffect(() => {
    setJobs(readJobs(session.doc));
    return observeJobs(session.doc, () => setJobs(readJobs(session.doc)));
  }, [session]);
  return jobs;
}
