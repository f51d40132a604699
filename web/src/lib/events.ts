// Reads the server's Server-Sent Events (`GET /api/v1/events`) with fetch, because EventSource
// cannot send an Authorization header. Each `event: change` frame says what changed
// (`{kind, id}`); the dashboard then re-reads the API. Resolves when the stream ends.
import { API, Unauthenticated } from "./api.ts";

export interface Change {
  kind: string;
  id: string;
}

/** The server sends a comment every 15 s; this much silence means the connection is dead. */
const SILENCE_MS = 45_000;

export async function readEvents(token: string, signal: AbortSignal, handlers: { onOpen: () => void; onChange: (change: Change) => void }): Promise<void> {
  const stream = new AbortController();
  const stopStream = () => stream.abort();
  signal.addEventListener("abort", stopStream);
  let watchdog = setTimeout(stopStream, SILENCE_MS);
  try {
    const response = await fetch(`${API}/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, cache: "no-store", signal: stream.signal });
    if (response.status === 401) throw new Unauthenticated("the token is unknown, revoked or expired");
    if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
    handlers.onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(watchdog);
      watchdog = setTimeout(stopStream, SILENCE_MS);
      buffer += value.replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const change = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (change) handlers.onChange(change);
      }
    }
  } catch (error) {
    // A stream we stopped (page closing, silence) just ends; anything else is the caller's.
    if (stream.signal.aborted) return;
    throw error;
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener("abort", stopStream);
  }
}

/** One SSE frame: `event:` and `data:` lines; comment lines (`: keepalive`) are skipped. */
export function parseFrame(frame: string): Change | null {
  let event = "message";
  const data: string[] = [];
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (event !== "change" || data.length === 0) return null;
  try {
    const parsed = JSON.parse(data.join("\n")) as Partial<Change>;
    return typeof parsed.kind === "string" ? { kind: parsed.kind, id: String(parsed.id ?? "") } : null;
  } catch {
    return null;
  }
}
