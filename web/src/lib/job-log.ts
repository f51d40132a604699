// A job's log, read forward from its first line a page at a time. While the job has not
// finished, each request asks the server to wait for more (long poll), so new lines show up as
// the runner ships them; the server says `done` once the job has finished and every line has
// been read. The page keeps only the last MAX_LINES lines: a log of millions of lines never
// sits in the page whole (`slipway pipeline logs RUN` prints all of it).
import { useEffect, useState } from "react";
import { Unauthenticated, errorText } from "./api.ts";
import { useHub } from "./live.ts";
import { loadLogPage, type LogLine } from "./pipelines.ts";

export const MAX_LINES = 5_000;
const PAGE_LINES = 2_000;
const WAIT_MS = 20_000;
const RETRY_MS = [1_000, 2_000, 5_000, 10_000];

export interface JobLog {
  lines: LogLine[];
  /** Lines read but no longer kept, from the start of the log. */
  dropped: number;
  done: boolean;
  /** Why the last read failed; reading goes on after a pause. */
  error: string | null;
}

export function useJobLog(run: string, job: string): JobLog {
  const hub = useHub();
  const [log, setLog] = useState<JobLog>({ lines: [], dropped: 0, done: false, error: null });

  useEffect(() => {
    const stop = new AbortController();
    const follow = async () => {
      let after = -1;
      let failures = 0;
      while (!stop.signal.aborted) {
        try {
          const page = await loadLogPage(hub.token, run, job, { after, limit: PAGE_LINES, waitMs: WAIT_MS }, stop.signal);
          failures = 0;
          after = page.next;
          setLog((previous) => {
            const all = page.lines.length ? [...previous.lines, ...page.lines] : previous.lines;
            const extra = Math.max(0, all.length - MAX_LINES);
            return { lines: extra ? all.slice(extra) : all, dropped: previous.dropped + extra, done: page.done, error: null };
          });
          if (page.done) return;
        } catch (cause) {
          if (stop.signal.aborted) return;
          if (cause instanceof Unauthenticated) return hub.signOut(cause.message);
          setLog((previous) => ({ ...previous, error: errorText(cause) }));
          const delay = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)];
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    };
    void follow();
    return () => stop.abort();
  }, [hub, run, job]);

  return log;
}
