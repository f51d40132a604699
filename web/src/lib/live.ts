// Keeps the dashboard's snapshot current. While the event stream is up, change events trigger a
// re-read (bursts coalesced into one); a slow re-read also runs, because a change made through
// another server replica does not reach this replica's stream. When the stream drops, the page
// polls every few seconds and reconnects with backoff; on reconnecting it re-reads at once.
import { useEffect, useState } from "react";
import { Unauthenticated, loadSnapshot, type Snapshot } from "./api.ts";
import { readEvents } from "./events.ts";

export type Connection = "connecting" | "live" | "polling";

/** Changes arriving within this window cost one re-read. */
const COALESCE_MS = 250;
const POLL_MS = 4_000;
const LIVE_REREAD_MS = 30_000;
const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

export interface Dashboard {
  snapshot: Snapshot | null;
  connection: Connection;
  /** Why the last re-read failed, while the page shows the data it had before. */
  error: string | null;
}

export function useDashboard(token: string, onUnauthenticated: (why: string) => void): Dashboard {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const stop = new AbortController();
    let live = false;
    let lastRead = 0;
    let reading = false;
    let readAgain = false;
    let pending: ReturnType<typeof setTimeout> | undefined;

    const fail = (cause: unknown): boolean => {
      if (stop.signal.aborted) return true;
      if (cause instanceof Unauthenticated) {
        stop.abort();
        onUnauthenticated(cause.message);
        return true;
      }
      return false;
    };

    const reread = async (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      lastRead = Date.now();
      try {
        const next = await loadSnapshot(token, stop.signal);
        if (!stop.signal.aborted) {
          setSnapshot(next);
          setError(null);
        }
      } catch (cause) {
        if (!fail(cause)) setError(cause instanceof Error ? cause.message : String(cause));
      } finally {
        reading = false;
        if (readAgain && !stop.signal.aborted) {
          readAgain = false;
          void reread();
        }
      }
    };

    const onChange = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        void reread();
      }, COALESCE_MS);
    };

    const connect = async () => {
      let attempt = 0;
      while (!stop.signal.aborted) {
        try {
          await readEvents(token, stop.signal, {
            onOpen: () => {
              attempt = 0;
              live = true;
              setConnection("live");
              void reread();
            },
            onChange,
          });
        } catch (cause) {
          if (fail(cause)) return;
        }
        if (stop.signal.aborted) return;
        live = false;
        setConnection("polling");
        const delay = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)] ?? POLL_MS;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };

    const poller = setInterval(() => {
      if (Date.now() - lastRead >= (live ? LIVE_REREAD_MS : POLL_MS)) void reread();
    }, 1_000);
    void reread();
    void connect();
    return () => {
      stop.abort();
      clearInterval(poller);
      clearTimeout(pending);
    };
  }, [token, onUnauthenticated]);

  return { snapshot, connection, error };
}

/** The current time, updated every `everyMs`, so "3 minutes ago" stays true. */
export function useNow(everyMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
