// Keeps every page current. One event stream per signed-in page (`useEventStream`, in the
// shell) tells the page's queries what changed; each query (`useLiveQuery`) re-reads its part
// of the API when a change concerns it (bursts coalesced into one read). A slow re-read also
// runs while live, because a change made through another server replica does not reach this
// replica's stream. When the stream drops, queries poll every few seconds and the stream
// reconnects with backoff; on reconnecting every query re-reads at once.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import { Unauthenticated, errorText } from "./api.ts";
import { readEvents, type Change } from "./events.ts";

export type Connection = "connecting" | "live" | "polling";

/** Changes arriving within this window cost one re-read. */
const COALESCE_MS = 250;
const POLL_MS = 4_000;
const LIVE_REREAD_MS = 30_000;
const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

type Listener = (event: Change | "open") => void;

/** What pages share: the token, the stream's changes, and how to give up on a refused token. */
export interface LiveHub {
  token: string;
  isLive(): boolean;
  subscribe(listener: Listener): () => void;
  signOut(why: string): void;
  /** A query read the API successfully at `at` (the top bar says when). */
  read(at: number): void;
}

export const LiveContext = createContext<LiveHub | null>(null);

export function useHub(): LiveHub {
  const hub = useContext(LiveContext);
  if (!hub) throw new Error("useHub outside <LiveContext>");
  return hub;
}

/** Opens the event stream for `token` and keeps it open; returns the hub pages subscribe to. */
export function useEventStream(token: string, onUnauthenticated: (why: string) => void): { hub: LiveHub; connection: Connection; updatedAt: number | null } {
  const [connection, setConnection] = useState<Connection>("connecting");
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [hub] = useState(() => {
    const listeners = new Set<Listener>();
    const state = { live: false, signedOut: false };
    const value: LiveHub & { emit: Listener; setLive: (live: boolean) => void } = {
      token,
      isLive: () => state.live,
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      signOut(why) {
        if (state.signedOut) return;
        state.signedOut = true;
        onUnauthenticated(why);
      },
      read: (at) => setUpdatedAt(at),
      emit: (event) => listeners.forEach((listener) => listener(event)),
      setLive(live) {
        state.live = live;
        setConnection(live ? "live" : "polling");
      },
    };
    return value;
  });

  useEffect(() => {
    const stop = new AbortController();
    const connect = async () => {
      let attempt = 0;
      while (!stop.signal.aborted) {
        try {
          await readEvents(token, stop.signal, {
            onOpen: () => {
              attempt = 0;
              hub.setLive(true);
              hub.emit("open");
            },
            onChange: hub.emit,
          });
        } catch (cause) {
          if (stop.signal.aborted) return;
          if (cause instanceof Unauthenticated) return hub.signOut(cause.message);
        }
        if (stop.signal.aborted) return;
        hub.setLive(false);
        const delay = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)] ?? POLL_MS;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };
    void connect();
    return () => stop.abort();
  }, [token, hub]);

  return { hub, connection, updatedAt };
}

export interface LiveQuery<T> {
  data: T | null;
  /** Why the last read failed, while the page shows the data it had before. */
  error: string | null;
  /** Read again now (after the page changed something itself). */
  reload: () => void;
}

/**
 * Reads `load` now, again on every change `relevant` accepts (all by default), and on a timer
 * as described above. `key` names what is read: a new key starts over with no data.
 */
export function useLiveQuery<T>(key: string, load: (token: string, signal: AbortSignal) => Promise<T>, relevant: (change: Change) => boolean = () => true): LiveQuery<T> {
  const hub = useHub();
  const [result, setResult] = useState<{ key: string; data: T | null; error: string | null }>({ key, data: null, error: null });
  const rereadRef = useRef<() => void>(() => undefined);
  const reload = useCallback(() => rereadRef.current(), []);
  // The latest callbacks, so that a re-render with new closures does not restart the reads.
  const loadRef = useRef(load);
  const relevantRef = useRef(relevant);
  loadRef.current = load;
  relevantRef.current = relevant;

  useEffect(() => {
    const stop = new AbortController();
    let lastRead = 0;
    let reading = false;
    let readAgain = false;
    let pending: ReturnType<typeof setTimeout> | undefined;

    const reread = async (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      lastRead = Date.now();
      try {
        const data = await loadRef.current(hub.token, stop.signal);
        if (!stop.signal.aborted) {
          setResult({ key, data, error: null });
          hub.read(Date.now());
        }
      } catch (cause) {
        if (stop.signal.aborted) return;
        if (cause instanceof Unauthenticated) hub.signOut(cause.message);
        else setResult((previous) => ({ key, data: previous.key === key ? previous.data : null, error: errorText(cause) }));
      } finally {
        reading = false;
        if (readAgain && !stop.signal.aborted) {
          readAgain = false;
          void reread();
        }
      }
    };

    const unsubscribe = hub.subscribe((event) => {
      if (event === "open") return void reread();
      if (!relevantRef.current(event)) return;
      pending ??= setTimeout(() => {
        pending = undefined;
        void reread();
      }, COALESCE_MS);
    });
    const poller = setInterval(() => {
      if (Date.now() - lastRead >= (hub.isLive() ? LIVE_REREAD_MS : POLL_MS)) void reread();
    }, 1_000);
    rereadRef.current = () => void reread();
    void reread();
    return () => {
      stop.abort();
      unsubscribe();
      clearInterval(poller);
      clearTimeout(pending);
    };
  }, [hub, key]);

  const current = result.key === key ? result : { data: null, error: null };
  return { data: current.data, error: current.error, reload };
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
