// One claimed job, from claim to /finish:
//
//   clean checkout of job.sha in the slot's workspace (slot.ts) -> unpack inputs -> steps, in
//   order -> tests (when the job has a tests section and the steps succeeded) -> kept paths and
//   package (when everything succeeded) -> kill what the commands left running -> ship every
//   log line -> /finish (the last two while the runner's slot claims and starts its next job:
//   see execute())
//
// Steps: a failing step fails the job and the steps after it are `skipped`. The tests command's
// output is logged as step <number of steps> (one past the last step), but the tests are not a
// step in the status: whether failed tests fail the job is the server's verdict (flaky and
// quarantined tests do not), and a step reported `failed` would fail it. The job stops early when
//   - the server says `cancel` (on a status, or a log batch): outcome `cancelled`
//   - the job's timeout passes: outcome `failed`
//   - the runner is stopping and its grace is over (stop()): outcome `cancelled`
// and the running command's process group gets SIGTERM, then SIGKILL after the kill grace.
// The status heartbeat goes on until /finish is sent, so uploading or shipping logs after the
// last step never looks like a lost runner. Lines of the runner itself (checkout, inputs,
// re-runs of failed tests, uploads) are logged as step -1, stream "system", masked like the rest.
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { StepStatus } from "../../contracts/pipelines.ts";
import type { JobFinish, RunnerJob } from "../../contracts/runner.ts";
import { maskSecrets } from "../../core/pipeline/mask.ts";
import { isTransient } from "../client.ts";
import type { Logger } from "../logger.ts";
import type { JobServer } from "./client.ts";
import { keptTarball, packageTarball, type Tarball } from "./archive.ts";
import { commandEnvironment } from "./env.ts";
import { JobLogStream, pause, type JobLogStreamOptions } from "./log-stream.ts";
import { insideWorkspace } from "./paths.ts";
import { MAX_TIMER_MS, reapProcesses, runShell, type ShellResult } from "./shell.ts";
import { StatusReporter } from "./status.ts";
import { PhaseTimer } from "./timings.ts";
import { runTests } from "./tests.ts";
import type { WorkspaceSlot } from "./slot.ts";
import { describeCommit, safeName, unpackInputs, type MirrorLocks, type RunnerLayout } from "./workspace.ts";

export interface JobDeps {
  server: JobServer;
  hostId: () => string;
  layout: RunnerLayout;
  locks: MirrorLocks;
  /** The runner slot's workspace the job runs in (see slot.ts). */
  slot: WorkspaceSlot;
  logger: Logger;
  /** The runner's environment, the source of a command's base variables (see env.ts). */
  baseEnv?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number;
  /** How long shipping the last log lines and /finish are retried while the server is away. */
  finishRetryMs?: number;
  logs?: Partial<Pick<JobLogStreamOptions, "flushIntervalMs" | "batchLines" | "maxBufferedBytes" | "retryDelayMs">>;
}

type Outcome = JobFinish["outcome"];

export class JobExecution {
  readonly job: RunnerJob;
  readonly #d: JobDeps;
  readonly #now: () => number;
  readonly #stop = new AbortController();
  readonly #giveUp = new AbortController();
  #stopped: { outcome: Exclude<Outcome, "succeeded">; reason: string } | undefined;
  readonly #status: StatusReporter;
  readonly #logs: JobLogStream;
  readonly #commands: ShellResult[] = [];
  readonly #result: Pick<JobFinish, "tests" | "kept" | "package"> = { tests: null, kept: null, package: null };
  readonly #log: Logger;
  readonly #timer = new PhaseTimer();
  #workspace = "";
  #mirror = "";
  /** Where the job's tarballs are written, once it has some. */
  #out: string | undefined;
  #deadline = 0;

  constructor(job: RunnerJob, deps: JobDeps) {
    this.job = job;
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    const log = deps.logger.child({ job_id: job.id, job: job.job, run: job.run_number, attempt: job.attempt });
    this.#log = log;
    const steps: StepStatus[] = job.steps.map((step, index) => pendingStep(index, step.name));
    const envelope = () => ({ host_id: deps.hostId(), attempt: job.attempt });
    this.#status = new StatusReporter(steps, {
      send: (list) => deps.server.status(job.id, { ...envelope(), steps: list }),
      intervalMs: job.heartbeat_interval_ms,
      logger: log,
      onCancel: (reason) => this.stop("cancelled", reason),
    });
    this.#logs = new JobLogStream({
      ...deps.logs,
      send: (lines) => deps.server.logs(job.id, { ...envelope(), lines }),
      logger: log,
      onCancel: () => this.stop("cancelled", "the job was cancelled"),
    });
  }

  get steps(): readonly StepStatus[] {
    return this.#status.steps;
  }

  /** Stops the job: the running command is killed and nothing more starts. The first reason stands. */
  stop(outcome: Exclude<Outcome, "succeeded">, reason: string): void {
    if (this.#stopped) return;
    this.#stopped = { outcome, reason };
    this.#stop.abort();
  }

  /** Bounds what is left: after `ms`, log lines still unsent are given up and /finish is not retried. */
  giveUpAfter(ms: number): void {
    setTimeout(() => this.#giveUp.abort(), ms).unref();
  }

  /** Runs the job to its end and sends /finish; resolves with what was sent (or could not be). */
  async run(): Promise<JobFinish> {
    return (await this.execute()).delivered;
  }

  /**
   * Runs the job's work, then hands its result over: resolves once the job's commands are over
   * and its workspace is no longer used, with `delivered`, which settles once the last log lines
   * and /finish have been sent (or given up). The runner's slot claims its next job meanwhile.
   */
  async execute(): Promise<{ delivered: Promise<JobFinish> }> {
    const started = this.#now();
    this.#deadline = started + this.job.timeout_ms;
    const timeout = setTimeout(() => this.stop("failed", `the job timed out after ${seconds(this.job.timeout_ms)}`), Math.min(this.job.timeout_ms, MAX_TIMER_MS));
    this.#status.start();
    let failure: string | null = null;
    try {
      failure = await this.#work();
    } catch (error) {
      failure = (error as Error).message;
    } finally {
      clearTimeout(timeout);
    }
    await reapProcesses({ name: "SLIPWAY_JOB_ID", value: this.job.id }, this.#commands);
    if (this.#out) await rm(this.#out, { recursive: true, force: true });
    this.#timer.lap("reap");
    const outcome: Outcome = this.#stopped?.outcome ?? (failure === null ? "succeeded" : "failed");
    const reason = this.#stopped?.reason ?? (failure === null ? null : maskSecrets(failure, this.job.secrets));
    for (const step of this.steps) if (step.state === "pending") step.state = "skipped";
    this.#system(`job ${outcome}${reason ? `: ${reason}` : ""} (${seconds(this.#now() - started)})`);
    const body: JobFinish = { host_id: this.#d.hostId(), attempt: this.job.attempt, outcome, reason: reason?.slice(0, 2000) ?? null, steps: this.steps.map((s) => ({ ...s })), ...this.#result };
    const delivered = this.#deliver(body).then(() => {
      this.#timer.lap("deliver");
      this.#log.debug({ phases_ms: this.#timer.summary(), outcome }, "job timings");
      return body;
    });
    return { delivered };
  }

  /** The job's work; resolves with why it failed, or null. */
  async #work(): Promise<string | null> {
    const job = this.job;
    this.#system(`job ${job.job}${job.shard ? ` (shard ${job.shard.index + 1} of ${job.shard.total})` : ""} of ${job.service} run #${job.run_number}, attempt ${job.attempt}`);
    this.#timer.lap("start");
    this.#workspace = this.#d.slot.dir;
    try {
      const debug = (text: string) => this.#log.debug({ workspace: this.#workspace }, text);
      this.#mirror = await this.#d.slot.checkout(job, { layout: this.#d.layout, locks: this.#d.locks, fetch: job.package !== null, log: (text) => this.#system(text), debug });
    } catch (error) {
      return `checkout failed: ${(error as Error).message}`;
    } finally {
      this.#timer.lap("checkout");
    }
    if (this.#stop.signal.aborted) return null;
    await unpackInputs(this.#d.server, job, this.#workspace, this.#d.layout, (text) => this.#system(text), this.#stop.signal);
    this.#timer.lap("inputs");
    const failed = await this.#runSteps();
    this.#timer.lap("steps");
    if (failed !== null || this.#stop.signal.aborted) return failed;
    if (job.tests) {
      const failedTests = await this.#runTests(job.tests);
      this.#timer.lap("tests");
      if (failedTests !== null || this.#stop.signal.aborted) return failedTests;
    }
    if (job.artifacts.length === 0 && !job.package) return null;
    const out = join(this.#d.layout.out, safeName(job.id));
    this.#out = out;
    await mkdir(out, { recursive: true });
    const kept = await keptTarball(this.#workspace, job.artifacts, join(out, "kept.tar.gz"));
    if (kept) this.#result.kept = await this.#upload(kept, "kept paths");
    else if (job.artifacts.length > 0) this.#system(`no file matches the artifacts paths (${job.artifacts.join(", ")}); nothing kept`);
    if (job.package) {
      const artifact = await packageTarball(this.#workspace, job.package, join(out, "package.tar.gz"));
      this.#result.package = { ...(await this.#upload(artifact, "release artifact")), git_describe: await describeCommit(this.#mirror, job.sha) };
    }
    this.#timer.lap("uploads");
    return null;
  }

  async #runSteps(): Promise<string | null> {
    for (const [index, step] of this.job.steps.entries()) {
      if (this.#stop.signal.aborted) return null;
      this.#status.update(index, { state: "running", started_at: this.#now() });
      const result = await this.#command(index, step.run, step.working_directory, step.env, step.timeout_ms);
      const failure = this.#failureOf(result, `step '${step.name}'`, step.timeout_ms);
      this.#status.update(index, { state: this.#stateAfter(failure), finished_at: this.#now(), exit_code: result.exitCode });
      if (failure !== null) return this.#stopped ? null : failure;
    }
    return null;
  }

  async #runTests(section: NonNullable<RunnerJob["tests"]>): Promise<string | null> {
    const index = this.job.steps.length;
    let last: ShellResult | undefined;
    const { report, ok } = await runTests(section, {
      workspace: this.#workspace,
      cwd: insideWorkspace(this.#workspace, section.working_directory),
      log: (text) => this.#system(text),
      run: async (command) => {
        last = await this.#command(index, command, section.working_directory, section.env, section.timeout_ms);
        return { exitCode: last.error ? null : last.exitCode, stopped: last.timedOut || last.aborted };
      },
    });
    this.#result.tests = report;
    const failure = ok ? null : last ? (this.#failureOf(last, "the tests", section.timeout_ms) ?? "the tests failed") : "the tests did not run";
    return this.#stopped ? null : failure;
  }

  /** Runs one command of the job in its working directory, its output logged under step `index`. */
  async #command(index: number, command: string, workingDirectory: string | null, env: Record<string, string>, timeoutMs: number): Promise<ShellResult> {
    const cwd = insideWorkspace(this.#workspace, workingDirectory);
    if (!(await stat(cwd).catch(() => undefined))?.isDirectory()) {
      return { exitCode: null, timedOut: false, aborted: false, error: `the working directory ${workingDirectory} does not exist`, pgid: null, output: Promise.resolve(), closeOutput: () => {}, startedAt: null, exitedAt: null };
    }
    const result = await runShell({
      command,
      cwd,
      env: commandEnvironment(this.#d.baseEnv ?? process.env, this.job, env, this.#workspace),
      timeoutMs: Math.max(1, Math.min(timeoutMs, this.#deadline - this.#now())),
      signal: this.#stop.signal,
      secrets: this.job.secrets,
      killGraceMs: this.#d.killGraceMs ?? 5000,
      onLine: (stream, text) => this.#logs.add({ step: index, stream, at: this.#now(), text }),
    });
    this.#commands.push(result);
    this.#log.debug({ step: index, exit_code: result.exitCode, started_at: result.startedAt, exited_at: result.exitedAt }, "command exited");
    return result;
  }

  /** Why a command failed (null when it succeeded), as one sentence. */
  #failureOf(result: ShellResult, what: string, timeoutMs: number): string | null {
    if (result.error) return `${what}: ${result.error}`;
    if (result.timedOut && !this.#stopped) return `${what} timed out after ${seconds(timeoutMs)}`;
    if (result.exitCode !== 0) return `${what} failed with exit code ${result.exitCode}`;
    return null;
  }

  #stateAfter(failure: string | null): StepStatus["state"] {
    if (this.#stopped?.outcome === "cancelled") return "cancelled";
    return failure === null ? "succeeded" : "failed";
  }

  async #upload(tarball: Tarball, what: string): Promise<{ sha256: string; size: number }> {
    this.#system(`uploading the ${what}: ${tarball.entries.length} file${tarball.entries.length === 1 ? "" : "s"}, ${tarball.size} bytes, sha256 ${tarball.sha256.slice(0, 12)}`);
    const artifact = await this.#d.server.upload(tarball.path, { sha256: tarball.sha256, size: tarball.size });
    return { sha256: artifact.sha256, size: artifact.size };
  }

  #system(text: string): void {
    void this.#logs.add({ step: -1, stream: "system", at: this.#now(), text: maskSecrets(text, this.job.secrets).slice(0, 16_384) });
  }

  /** Ships the last log lines, then /finish, retrying while the server is away (for a while). */
  async #deliver(body: JobFinish): Promise<void> {
    const giveUp = AbortSignal.any([this.#giveUp.signal, AbortSignal.timeout(this.#d.finishRetryMs ?? 10 * 60_000)]);
    const onGiveUp = () => this.#logs.close();
    if (giveUp.aborted) onGiveUp();
    giveUp.addEventListener("abort", onGiveUp, { once: true });
    await this.#logs.flush();
    await this.#status.stop();
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#d.server.finish(this.job.id, body);
        break;
      } catch (error) {
        if (!isTransient(error) || !(await pause(delay, giveUp))) {
          this.#d.logger.warn({ job_id: this.job.id, err: (error as Error).message }, "could not finish the job; the server will find its runner lost");
          break;
        }
      }
    }
    giveUp.removeEventListener("abort", onGiveUp);
    this.#logs.close();
  }
}

const pendingStep = (index: number, name: string): StepStatus => ({ index, name: name.slice(0, 200), state: "pending", started_at: null, finished_at: null, exit_code: null });

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
