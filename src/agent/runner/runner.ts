// The runner half of `slipway agent --runner`: each of `slots` loops long-polls the server for a
// job this runner's labels match (POST /runner/claim), runs it (job.ts) in the slot's workspace
// (slot.ts), and claims the next one while the last one's result is still on its way to the server.
// A failed claim backs off (0.5 s doubling to 4 s, with jitter) as the host loop does; a claim
// answered 404 means the server no longer knows this host, so the agent registers again.
//
// Stopping (SIGTERM): no new claim is made; running jobs get `stopGraceMs` to finish, then are
// cancelled (their commands killed, outcome `cancelled`) and given a few seconds to report it.
// A job claimed by a request the stop interrupted is not lost: the server sees its runner silent
// and retries it (or fails it) as the job's `retry` says.
import { AgentHttpError } from "../client.ts";
import type { JobFinish } from "../../contracts/runner.ts";
import type { Logger } from "../logger.ts";
import type { RunnerClient } from "./client.ts";
import { JobExecution, type JobDeps } from "./job.ts";
import { pause } from "./log-stream.ts";
import { WorkspaceSlot, removeStrayWorkspaces, slotDirs } from "./slot.ts";
import { MirrorLocks, runnerLayout, type RunnerLayout } from "./workspace.ts";

export interface RunnerOptions {
  dataDir: string;
  /** Jobs run at the same time. */
  slots: number;
  /** How long a stop lets running jobs finish before cancelling them. */
  stopGraceMs?: number;
  claimWaitMs?: number;
}

export interface RunnerDeps extends Pick<JobDeps, "baseEnv" | "now" | "killGraceMs" | "finishRetryMs" | "logs"> {
  client: RunnerClient;
  hostId: () => string;
  logger: Logger;
  /** Registers the agent again (the server answered a claim with 404). */
  reregister: () => Promise<void>;
}

const MAX_RETRY_DELAY_MS = 4_000;
/** After its grace, a cancelled job has this long to kill its commands and report. */
const CANCEL_REPORT_MS = 10_000;

export class Runner {
  readonly #o: Required<RunnerOptions>;
  readonly #d: RunnerDeps;
  readonly #layout: RunnerLayout;
  readonly #locks = new MirrorLocks();
  readonly #stopping = new AbortController();
  /** Jobs claimed and not yet finished (delivering their result included). */
  readonly #active = new Map<string, JobExecution>();
  /** Results of finished jobs on their way to the server. */
  readonly #delivering = new Set<Promise<void>>();
  #loops: Promise<void>[] = [];
  readonly #slots: WorkspaceSlot[];

  constructor(options: RunnerOptions, deps: RunnerDeps) {
    this.#o = { stopGraceMs: 30_000, claimWaitMs: 25_000, ...options };
    this.#d = deps;
    this.#layout = runnerLayout(options.dataDir);
    this.#slots = slotDirs(this.#layout.workspaces, options.slots).map((dir) => new WorkspaceSlot(dir));
  }

  /** The jobs running now. */
  get running(): JobExecution[] {
    return [...this.#active.values()];
  }

  start(): void {
    this.#d.logger.info({ slots: this.#o.slots }, "runner started: claiming jobs");
    // Workspaces of an earlier version (one per job) or of slots this start does not have.
    const tidy = removeStrayWorkspaces(this.#layout.workspaces, this.#slots.map((s) => s.dir)).catch((error: unknown) => this.#d.logger.warn({ err: (error as Error).message }, "could not remove old workspaces"));
    this.#loops = this.#slots.map((slot, index) => tidy.then(() => this.#claimLoop(index, slot)));
  }

  async stop(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort();
    const loops = Promise.all(this.#loops);
    const everything = loops.then(() => Promise.all(this.#delivering));
    if (this.#active.size > 0) this.#d.logger.info({ jobs: this.#active.size, grace_ms: this.#o.stopGraceMs }, "runner stopping: letting the running jobs finish");
    if (await finishesWithin(everything, this.#o.stopGraceMs)) return;
    for (const job of this.#active.values()) {
      job.giveUpAfter(CANCEL_REPORT_MS);
      // A job already delivering its result keeps the outcome it had.
      job.stop("cancelled", `the runner is stopping and the job did not finish within ${Math.round(this.#o.stopGraceMs / 1000)} s`);
    }
    await everything;
  }

  async #claimLoop(slot: number, workspace: WorkspaceSlot): Promise<void> {
    const stop = this.#stopping.signal;
    let delay = 500;
    let delivering: Promise<void> = Promise.resolve();
    while (!stop.aborted) {
      let job;
      try {
        job = await this.#d.client.claim(this.#d.hostId(), this.#o.claimWaitMs, stop);
        delay = 500;
      } catch (error) {
        if (stop.aborted) return;
        if (error instanceof AgentHttpError && error.status === 404) {
          this.#d.logger.warn("the server does not know this runner; registering again");
          await this.#d.reregister().catch(() => undefined);
        } else {
          this.#d.logger.warn({ slot, err: (error as Error).message, retry_in_ms: delay }, "could not claim a job; retrying");
        }
        await pause(delay + Math.floor(Math.random() * 250), stop);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
        continue;
      }
      if (!job) continue;
      const { delivery } = await this.#execute(new JobExecution(job, { ...this.#d, server: this.#d.client, layout: this.#layout, locks: this.#locks, slot: workspace }));
      // At most one result per slot on its way: a server that takes claims but not finishes
      // does not get job after job from this slot.
      await delivering;
      delivering = delivery;
    }
  }

  /** Runs the job; returns once the slot is free again, with its result's delivery to the server (also in #delivering). */
  async #execute(execution: JobExecution): Promise<{ delivery: Promise<void> }> {
    const { job } = execution;
    const log = this.#d.logger.child({ job_id: job.id, job: job.job, run: job.run_number, attempt: job.attempt });
    this.#active.set(job.id, execution);
    log.info("job claimed");
    let delivered: Promise<JobFinish>;
    try {
      ({ delivered } = await execution.execute());
    } catch (error) {
      log.error({ err: error }, "the job could not be run");
      this.#active.delete(job.id);
      return { delivery: Promise.resolve() };
    }
    const delivery: Promise<void> = delivered
      .then((finish) => log.info({ outcome: finish.outcome, reason: finish.reason }, "job finished"))
      .catch((error: unknown) => log.error({ err: error }, "the job's result could not be sent"))
      .finally(() => {
        this.#active.delete(job.id);
        this.#delivering.delete(delivery);
      });
    this.#delivering.add(delivery);
    return { delivery };
  }
}

/** True when `work` settles within `ms`. */
async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
