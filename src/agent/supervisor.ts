// Supervises one service's process, like god or monit:
//
//   stopped --start--> running --exit--> backoff --delay--> running ...
//                         |                  \--(N restarts in the window)--> crashloop --delay--> running
//                         \--stop--> stopped
//
// The process is spawned detached, in its own process group, with its stdout and stderr going
// straight into files (the fds are handed over, not piped), so it survives the agent: an agent
// that restarts, even after kill -9, ADOPTS it from shared/process.json (same pid and same
// /proc start time, so a reused pid is never mistaken for it) and supervises it by polling.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { z } from "zod";
import { readJsonFile, writeJsonAtomic } from "./files.ts";
import type { Logger } from "./logger.ts";
import { isSameLiveProcess, liveGroupMembers, readProcStat, signalGroup } from "./proc.ts";
import { EMPTY_HISTORY, onCrash, type CrashHistory, type RestartPolicy } from "./restart-policy.ts";

export const ProcessRecord = z.object({
  pid: z.number().int(),
  start_time: z.string().nullable(),
  release_id: z.string(),
  version: z.string(),
  started_at: z.number(),
  restarts: z.number().int().default(0),
});
export type ProcessRecord = z.infer<typeof ProcessRecord>;

export interface LaunchSpec {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  releaseId: string;
  version: string;
  stdoutPath: string;
  stderrPath: string;
}

export type SupervisorState = "stopped" | "running" | "backoff" | "crashloop";

export interface SupervisorStatus {
  state: SupervisorState;
  pid: number | null;
  releaseId: string | null;
  /** When the running process started (agent clock). */
  startedAt: number | null;
  restarts: number;
  lastExit: string | null;
}

export interface SupervisorDeps {
  processFile: string;
  policy: RestartPolicy;
  now: () => number;
  logger: Logger;
  /** How often an adopted process (not a child of this agent) is checked. */
  pollIntervalMs?: number;
  onChange: () => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Supervisor {
  readonly #deps: SupervisorDeps;
  #state: SupervisorState = "stopped";
  #spec: LaunchSpec | undefined;
  #record: ProcessRecord | undefined;
  #history: CrashHistory = EMPTY_HISTORY;
  #lastExit: string | null = null;
  /** Restarts of the current release since it was started (kept in process.json across adoptions). */
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #upTimer: NodeJS.Timeout | undefined;
  /** Bumped by every start, stop and exit, so a stale exit or timer does nothing. */
  #epoch = 0;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  /** What is (or was last) run. */
  get spec(): LaunchSpec | undefined {
    return this.#spec;
  }

  get status(): SupervisorStatus {
    return {
      state: this.#state,
      pid: this.#record?.pid ?? null,
      releaseId: this.#record?.release_id ?? this.#spec?.releaseId ?? null,
      startedAt: this.#state === "running" ? (this.#record?.started_at ?? null) : null,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
    };
  }

  /** The process recorded in process.json when it is still alive, whatever its release. */
  async recordedLiveProcess(): Promise<ProcessRecord | undefined> {
    const record = await readJsonFile(this.#deps.processFile, ProcessRecord);
    return record && isSameLiveProcess(record.pid, record.start_time) ? record : undefined;
  }

  /** Takes over the live process recorded in process.json; false when there is none. */
  async adopt(spec: LaunchSpec): Promise<boolean> {
    const record = await this.recordedLiveProcess();
    if (!record || record.release_id !== spec.releaseId) return false;
    const epoch = ++this.#epoch;
    this.#spec = spec;
    this.#record = record;
    this.#restarts = record.restarts;
    this.#state = "running";
    this.#deps.logger.info({ pid: record.pid, release: record.version }, "adopted the running service process");
    this.#watchUptime(epoch);
    this.#poll(epoch);
    this.#deps.onChange();
    return true;
  }

  /** Starts `spec` afresh (stopping whatever runs first); crash counters start over. */
  async start(spec: LaunchSpec, stopTimeoutMs: number): Promise<void> {
    await this.stop(stopTimeoutMs);
    this.#spec = spec;
    this.#history = EMPTY_HISTORY;
    this.#lastExit = null;
    this.#restarts = 0;
    await this.#launch(++this.#epoch, 0);
  }

  /**
   * SIGTERM to the process group, SIGKILL to what is left after `timeoutMs`; no more restarts.
   * Also stops a live process recorded in process.json that this supervisor has not adopted.
   */
  async stop(timeoutMs: number): Promise<void> {
    ++this.#epoch;
    this.#clearTimers();
    const record = this.#record ?? (await this.recordedLiveProcess());
    if (record) await terminateGroup(record.pid, timeoutMs, this.#deps.logger);
    await rm(this.#deps.processFile, { force: true });
    const changed = this.#state !== "stopped" || record !== undefined;
    this.#state = "stopped";
    this.#history = EMPTY_HISTORY;
    this.#record = undefined;
    if (changed) this.#deps.onChange();
  }

  /** Stops watching without touching the process (the agent exits; the service keeps running). */
  detach(): void {
    ++this.#epoch;
    this.#clearTimers();
  }

  async #launch(epoch: number, restarts: number): Promise<void> {
    const spec = this.#spec;
    if (!spec) return;
    const out = openSync(spec.stdoutPath, "a");
    const err = openSync(spec.stderrPath, "a");
    let child;
    try {
      child = spawn("sh", ["-c", spec.command], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", out, err] });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    child.unref();
    const startedAt = this.#deps.now();
    child.once("error", (error) => this.#onExit(epoch, `could not start: ${error.message}`));
    child.once("exit", (code, signal) => this.#onExit(epoch, signal ? `killed by ${signal}` : `exited with code ${code}`));
    if (child.pid === undefined) return; // the "error" event follows
    const record: ProcessRecord = { pid: child.pid, start_time: readProcStat(child.pid)?.startTime ?? null, release_id: spec.releaseId, version: spec.version, started_at: startedAt, restarts };
    this.#record = record;
    this.#state = "running";
    this.#deps.logger.info({ pid: child.pid, release: spec.version, restarts }, "started the service process");
    this.#watchUptime(epoch);
    this.#deps.onChange();
    await writeJsonAtomic(this.#deps.processFile, record);
  }

  #onExit(epoch: number, how: string): void {
    if (epoch !== this.#epoch) return;
    const record = this.#record;
    const now = this.#deps.now();
    this.#clearTimers();
    // Whatever the process left in its group (a grandchild holding the port) goes with it.
    if (record) signalGroup(record.pid, "SIGKILL");
    const decision = onCrash(this.#deps.policy, this.#history, record?.started_at ?? now, now);
    this.#history = decision.history;
    this.#lastExit = how;
    this.#state = decision.crashLoop ? "crashloop" : "backoff";
    this.#deps.logger.warn({ pid: record?.pid, how, restart_in_ms: decision.delayMs, crash_loop: decision.crashLoop }, "the service process exited; restarting");
    const next = ++this.#epoch;
    const restarts = ++this.#restarts;
    this.#record = undefined;
    this.#restartTimer = setTimeout(() => void this.#launch(next, restarts).catch((error: unknown) => this.#deps.logger.error({ err: error }, "restart failed")), decision.delayMs);
    this.#deps.onChange();
  }

  /** Polls an adopted process, which is not this agent's child and sends it no exit event. */
  #poll(epoch: number): void {
    this.#pollTimer = setTimeout(() => {
      if (epoch !== this.#epoch || !this.#record) return;
      if (isSameLiveProcess(this.#record.pid, this.#record.start_time)) this.#poll(epoch);
      else this.#onExit(epoch, "exited (seen by polling; exit status unknown)");
    }, this.#deps.pollIntervalMs ?? 1000);
  }

  /** A process that stays up for resetAfterMs ends a crash loop. */
  #watchUptime(epoch: number): void {
    this.#upTimer = setTimeout(() => {
      if (epoch !== this.#epoch) return;
      this.#history = EMPTY_HISTORY;
      this.#deps.onChange();
    }, this.#deps.policy.resetAfterMs);
    this.#upTimer.unref();
  }

  /** True while a crash loop is going on (reported as process_state "crashloop"). */
  get inCrashLoop(): boolean {
    return this.#history.restartTimes.length >= this.#deps.policy.crashLoopRestarts;
  }

  #clearTimers(): void {
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#upTimer);
  }
}

/** SIGTERM to group `pgid`, then SIGKILL after `timeoutMs` if any member is still alive. */
export async function terminateGroup(pgid: number, timeoutMs: number, logger: Logger): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (liveGroupMembers(pgid).length > 0) {
    if (Date.now() >= deadline) {
      logger.warn({ pgid, timeout_ms: timeoutMs }, "the service did not stop in time; sending SIGKILL");
      signalGroup(pgid, "SIGKILL");
      const killDeadline = Date.now() + 5000;
      while (liveGroupMembers(pgid).length > 0 && Date.now() < killDeadline) await sleep(20);
      return;
    }
    await sleep(20);
  }
}
