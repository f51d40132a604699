// Health of a service process, from its manifest's run.health (an HTTP path on its port, or a
// command run in its release directory), probed every `start_interval` until the process is first
// healthy (a deployment waits on that moment, so it is detected quickly), then every `interval`,
// each probe with a `timeout`:
//
//   unknown --healthy_threshold passes in a row--> healthy --unhealthy_threshold failures in a row--> unhealthy
//      \--start_period over, never healthy--> unhealthy          unhealthy --healthy_threshold passes--> healthy
//
// Failures inside the start period do not count against a process that has not been healthy yet.
// Without a health check, a process that stays up for NO_CHECK_READY_MS counts as healthy.
import { request } from "node:http";
import type { HealthCheck } from "../core/manifest/schema.ts";
import { runCommand } from "./command.ts";

export type Health = "healthy" | "unhealthy" | "unknown";

export interface HealthState {
  health: Health;
  passes: number;
  failures: number;
  everHealthy: boolean;
  startedAt: number;
  /** What the last failed probe said. */
  lastFailure: string | null;
}

export const initialHealth = (startedAt: number): HealthState => ({ health: "unknown", passes: 0, failures: 0, everHealthy: false, startedAt, lastFailure: null });

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** The health after one probe (pure). */
export function observeProbe(check: Pick<HealthCheck, "healthy_threshold" | "unhealthy_threshold" | "start_period">, state: HealthState, result: ProbeResult, now: number): HealthState {
  if (result.ok) {
    const passes = state.passes + 1;
    const healthy = passes >= check.healthy_threshold;
    return { ...state, passes, failures: 0, health: healthy ? "healthy" : state.health, everHealthy: state.everHealthy || healthy, lastFailure: healthy ? null : state.lastFailure };
  }
  const failures = state.failures + 1;
  const next = { ...state, passes: 0, failures, lastFailure: result.detail };
  if (!state.everHealthy) {
    const startPeriodOver = now - state.startedAt >= check.start_period;
    return { ...next, health: startPeriodOver ? "unhealthy" : "unknown" };
  }
  return { ...next, health: failures >= check.unhealthy_threshold ? "unhealthy" : state.health };
}

/** GET http://address:port/path: 2xx and 3xx pass. A fresh connection each time (no pooling across restarts). */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs, headers: { "user-agent": "slipway-agent/health" } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? { ok: true, detail: `HTTP ${status}` } : { ok: false, detail: `GET ${url} answered HTTP ${status}` });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) => resolve({ ok: false, detail: `GET ${url}: ${(error as NodeJS.ErrnoException).code ?? error.message}` }));
    req.end();
  });
}

export async function probeCommand(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProbeResult> {
  const result = await runCommand(command, { cwd, env, timeoutMs, outputLimit: 500, killGraceMs: 1000 });
  if (result.ok) return { ok: true, detail: "exit 0" };
  const how = result.timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${result.code ?? result.signal}`;
  return { ok: false, detail: `health command ${how}${result.output.trim() ? `: ${result.output.trim().slice(-300)}` : ""}` };
}

export interface HealthTarget {
  check: HealthCheck | undefined;
  /** http://address:port, for an HTTP check. */
  baseUrl: string | null;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const NO_CHECK_READY_MS = 1000;

/** The pause between probes: start_interval until the process has been healthy once, then interval. */
export const probeInterval = (check: Pick<HealthCheck, "interval" | "start_interval">, state: Pick<HealthState, "everHealthy">): number =>
  state.everHealthy ? check.interval : Math.min(check.start_interval, check.interval);

/** Probes one process until stopped; a new process gets a new monitor. */
export class HealthMonitor {
  #state: HealthState;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #target: HealthTarget;
  readonly #now: () => number;
  readonly #onChange: () => void;

  constructor(target: HealthTarget, now: () => number, onChange: () => void, startedAt = now()) {
    this.#target = target;
    this.#now = now;
    this.#onChange = onChange;
    this.#state = initialHealth(startedAt);
  }

  get state(): HealthState {
    return this.#state;
  }

  start(firstProbeAfterMs = 100): void {
    const check = this.#target.check;
    if (!check) {
      const wait = Math.max(0, this.#state.startedAt + NO_CHECK_READY_MS - this.#now());
      this.#timer = setTimeout(() => this.#set({ ...this.#state, health: "healthy", everHealthy: true }), wait);
      return;
    }
    this.#schedule(Math.min(firstProbeAfterMs, probeInterval(check, this.#state)));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probeOnce(), delayMs);
  }

  async #probeOnce(): Promise<void> {
    const check = this.#target.check;
    if (!check || this.#stopped) return;
    const started = this.#now();
    let result: ProbeResult;
    if (check.http !== undefined) {
      result = this.#target.baseUrl ? await probeHttp(this.#target.baseUrl + check.http, check.timeout) : { ok: false, detail: "an HTTP health check needs run.port" };
    } else {
      result = await probeCommand(check.command ?? "false", this.#target.cwd, this.#target.env, check.timeout);
    }
    if (this.#stopped) return;
    this.#set(observeProbe(check, this.#state, result, this.#now()));
    this.#schedule(Math.max(0, probeInterval(check, this.#state) - (this.#now() - started)));
  }

  #set(next: HealthState): void {
    const changed = next.health !== this.#state.health;
    this.#state = next;
    if (changed) this.#onChange();
  }
}
