// How a deployment's progress looks in a terminal, shared by `deploy --wait`, `rollback --wait`,
// `deployment show --follow` and `slipway up --demo`.
//
// On a TTY: the deployment's events are printed as they come (they stay in the scrollback), and
// below them a live block (state, batch k/n, elapsed time, one line per host) is redrawn in place.
// Elsewhere (a pipe, a CI log): plain lines only, one per event and one per host status change,
// so the log reads top to bottom without escape codes.
//
// Following a deployment: the server's /events stream says when something changed and the
// deployment is read again; a poll every few seconds covers a stream that cannot be opened or
// drops (a proxy, another replica), so following never depends on it.
import { stageLine } from "./deploy-analysis.ts";
import type { Deployment } from "../contracts/deployments.ts";

type DeploymentState = Deployment["state"];
type HostStatus = Deployment["hosts"][number]["status"];

export const FINAL_STATES: readonly DeploymentState[] = ["succeeded", "failed", "rolled_back", "cancelled"];
export const isFinal = (state: DeploymentState): boolean => FINAL_STATES.includes(state);

export interface Output {
  write(text: string): unknown;
}

const STATE_WORDS: Record<DeploymentState, string> = {
  queued: "queued",
  migrating: "migrating",
  running: "running",
  paused: "paused",
  rolling_back: "rolling back",
  succeeded: "succeeded",
  failed: "failed",
  rolled_back: "rolled back",
  cancelled: "cancelled",
};
export const stateWord = (state: DeploymentState): string => STATE_WORDS[state];

const HOST_MARKS: Record<HostStatus, string> = {
  pending: "·",
  switching: "→",
  healthy: "✓",
  failed: "✗",
  skipped: "-",
  rolling_back: "←",
  rolled_back: "↩",
};

/** Reasons name hosts by id; people know them by name. */
export function withHostNames(text: string, d: Pick<Deployment, "hosts">): string {
  let out = text;
  for (const host of d.hosts) if (host.id !== host.name) out = out.split(host.id).join(host.name);
  return out;
}

const clock = (iso: string): string => new Date(iso).toTimeString().slice(0, 8);

/** `demo 2.0.0 -> production (from 1.0.0)`, or `rollback of demo in production to 1.0.0`. */
export function describeTarget(d: Pick<Deployment, "kind" | "service" | "environment" | "release" | "previous_release">): string {
  if (d.kind === "rollback") return `rollback of ${d.service} in ${d.environment} to ${d.release.version}`;
  return `${d.service} ${d.release.version} -> ${d.environment}${d.previous_release ? ` (from ${d.previous_release.version})` : ""}`;
}

/** `running, batch 2/3`; `paused: batch 1 failed (...)`. */
export function stateLine(d: Deployment): string {
  const batch = d.batch !== null && d.batches > 0 ? `, batch ${d.batch + 1}/${d.batches}` : "";
  const reason = d.state === "rolled_back" || d.state === "failed" ? `: ${failureReason(d)}` : d.reason && (d.state === "paused" || isFinal(d.state)) ? `: ${withHostNames(d.reason, d)}` : "";
  return `${stateWord(d.state)}${batch}${reason}`;
}

const isState = (text: string): text is DeploymentState => text in STATE_WORDS;

export function eventLine(d: Deployment, event: Deployment["events"][number]): string {
  const to = isState(event.to) ? stateWord(event.to) : event.to;
  const change = event.from === event.to ? "" : isState(event.from) ? `${stateWord(event.from)} -> ${to}: ` : `${to}: `;
  const by = event.actor !== "slipway" ? ` (${event.actor})` : "";
  return `${clock(event.at)}  ${change}${withHostNames(event.reason, d)}${by}`;
}

export function hostLine(d: Deployment, host: Deployment["hosts"][number], nameWidth = host.name.length): string {
  const reason = host.reason ? `  ${withHostNames(host.reason, d)}` : "";
  return `${HOST_MARKS[host.status]} ${host.name.padEnd(nameWidth)}  batch ${host.batch + 1}/${Math.max(d.batches, 1)}  ${host.status.replace("_", " ")}${reason}`;
}

/**
 * The reason a deployment did not succeed: the event that turned it away from success (a failed
 * batch, a migration, a person), not the last one ("every changed host is back ...").
 */
export function failureReason(d: Deployment): string {
  const turning = [...d.events].reverse().find((e) => e.from !== e.to && ["rolling_back", "paused", "failed", "cancelled", "rolled_back"].includes(e.to) && e.from !== "rolling_back");
  const last = d.reason ?? "no reason recorded";
  if (!turning) return withHostNames(last, d);
  const first = withHostNames(turning.reason, d);
  return d.reason && d.reason !== turning.reason && d.state !== "rolled_back" ? `${first}; then ${withHostNames(d.reason, d)}` : first;
}

export class ProgressView {
  readonly #out: Output;
  readonly #tty: boolean;
  readonly #now: () => number;
  #headerShown = false;
  #lastSeq = 0;
  #hostStatus = new Map<string, string>();
  #blockLines = 0;
  #last: Deployment | undefined;

  constructor(out: Output, options: { tty: boolean; now?: () => number }) {
    this.#out = out;
    this.#tty = options.tty;
    this.#now = options.now ?? Date.now;
  }

  /** Shows what changed since the last call. */
  update(d: Deployment): void {
    this.#last = d;
    const lines: string[] = [];
    if (!this.#headerShown) {
      this.#headerShown = true;
      lines.push(`Deployment ${d.id}: ${describeTarget(d)}, requested by ${d.created_by}`);
    }
    // Events and host changes in time order; at the same instant a host's outcome comes before the
    // event it led to, and the event before the switches it started.
    const entries: { at: number; rank: number; text: string }[] = [];
    for (const event of d.events) {
      if (event.seq <= this.#lastSeq) continue;
      this.#lastSeq = event.seq;
      entries.push({ at: Date.parse(event.at), rank: 1, text: eventLine(d, event) });
    }
    // Host changes are lines of their own only without a live block to show them.
    const width = Math.max(0, ...d.hosts.map((h) => h.name.length));
    for (const host of d.hosts) {
      const key = `${host.status}\0${host.reason ?? ""}`;
      if (this.#hostStatus.get(host.id) === key) continue;
      const first = !this.#hostStatus.has(host.id);
      this.#hostStatus.set(host.id, key);
      if (this.#tty || (first && host.status === "pending")) continue;
      const at = host.at ?? new Date(this.#now()).toISOString();
      entries.push({ at: Date.parse(at), rank: host.status === "switching" || host.status === "rolling_back" ? 2 : 0, text: `${clock(at)}  ${hostLine(d, host, width)}` });
    }
    entries.sort((a, b) => a.at - b.at || a.rank - b.rank);
    lines.push(...entries.map((e) => e.text));
    this.#draw(lines, d);
  }

  /** Redraws the live block (its elapsed time) without new data; a no-op without a TTY. */
  tick(): void {
    if (this.#tty && this.#last) this.#draw([], this.#last);
  }

  /** The last word: the live block stays on screen as the final picture. */
  finish(d: Deployment): void {
    this.update(d);
    this.#blockLines = 0;
  }

  #draw(newLines: string[], d: Deployment): void {
    if (!this.#tty) {
      if (newLines.length) this.#out.write(newLines.join("\n") + "\n");
      return;
    }
    // Erase the previous block (cursor up N lines, clear to the end), print the new lines, redraw.
    const erase = this.#blockLines > 0 ? `\x1b[${this.#blockLines}F\x1b[J` : "";
    const block = this.#block(d);
    this.#blockLines = block.length;
    this.#out.write(erase + [...newLines, ...block].map((line) => line + "\n").join(""));
  }

  #block(d: Deployment): string[] {
    const started = Date.parse(d.started_at ?? d.created_at);
    const ended = d.finished_at ? Date.parse(d.finished_at) : this.#now();
    const elapsed = Math.max(0, Math.round((ended - started) / 1000));
    const width = Math.max(0, ...d.hosts.map((h) => h.name.length));
    const stage = stageLine(d, this.#now());
    return [`  ${stateLine(d)}  (${elapsed} s)`, ...(stage ? [`  ${stage}`] : []), ...d.hosts.map((h) => `    ${hostLine(d, h, width)}`)];
  }
}

/** Where a deployment is read from, and how changes are announced. */
export interface DeploymentSource {
  get(id: string): Promise<Deployment>;
  /** Calls `onChange` for each change the server announces; resolves when the stream ends. */
  changes(onChange: (change: { kind: string; id: string }) => void, signal: AbortSignal): Promise<void>;
}

/**
 * Reads the deployment again whenever the server announces a change to it (or every `pollMs`),
 * handing each version to `onUpdate`, until `until` says so (by default: a final state);
 * resolves with that version.
 */
export async function followDeployment(
  source: DeploymentSource,
  id: string,
  onUpdate: (d: Deployment) => void,
  options: { pollMs?: number; signal?: AbortSignal; until?: (d: Deployment) => boolean } = {},
): Promise<Deployment> {
  const until = options.until ?? ((d: Deployment) => isFinal(d.state));
  const stop = new AbortController();
  const outer = options.signal;
  const abortOuter = () => stop.abort();
  outer?.addEventListener("abort", abortOuter, { once: true });
  let wake: (() => void) | undefined;
  // Set by an announcement; one that arrives while the deployment is being read is not lost.
  let changed = false;
  const nudge = () => {
    changed = true;
    wake?.();
  };
  // The stream only wakes the loop; if it fails or ends, the periodic poll carries on alone.
  const streaming = source
    .changes((change) => {
      // Host reports reach the deployment's view only through the controller's next transition,
      // which announces the deployment itself.
      if (change.kind === "deployment" && change.id === id) nudge();
    }, stop.signal)
    .catch(() => undefined);
  try {
    for (;;) {
      changed = false;
      const d = await source.get(id);
      onUpdate(d);
      if (until(d)) return d;
      if (stop.signal.aborted) throw new Error("stopped following the deployment");
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => wake?.(), options.pollMs ?? 3000);
          wake = () => {
            clearTimeout(timer);
            stop.signal.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          };
          const onAbort = () => wake?.();
          stop.signal.addEventListener("abort", onAbort, { once: true });
        });
      }
      // Coalesce a burst of announcements into one read.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    stop.abort();
    outer?.removeEventListener("abort", abortOuter);
    await streaming;
  }
}
