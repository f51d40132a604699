// The host agent (`slipway agent`): registers, then long-polls the server for the host's desired
// state and converges the host to it, reporting what it actually has after every change and every
// heartbeat interval. The server never runs a command here; it only says what should be.
//
//   start: lock the data dir -> resume local services (adopt running processes; no server
//          needed) -> register (retrying while the server is unreachable) -> loop:
//   loop:  GET desired?after=<generation>  (the server answers at once on a newer generation,
//          else after poll_timeout_ms) -> hand each service and task its part -> report once all
//          have been attempted. Network errors: back off (1 s doubling to 30 s) and try again.
//   stop:  SIGTERM/SIGINT -> stop polling, ship the last logs and a final report; the services
//          keep running unless --stop-services-on-exit.
//
// Services with run.metrics are scraped and their samples shipped on their own timers
// (metrics-scraper.ts), never in the way of the loop.
//
// With --runner the agent also claims and runs pipeline jobs (runner/runner.ts), started once
// registered and stopped first (running jobs get a grace to finish). With --runner-only it is no
// deployment target: it registers with the role "runner" alone and runs no desired-state loop.
import { join } from "node:path";
import type { AgentRegistered, AgentReport, DesiredState } from "../contracts/agent.ts";
import type { HostRole } from "../contracts/hosts.ts";
import { AgentClient, AgentHttpError } from "./client.ts";
import { cleanDownloads } from "./download.ts";
import { listServicesOnDisk } from "./layout.ts";
import type { Logger } from "./logger.ts";
import { LogShipper } from "./log-shipper.ts";
import { MetricsScraper, metricTargetOf, metricsSender } from "./metrics-scraper.ts";
import { ServiceReconciler } from "./reconcile.ts";
import { ReleaseCache } from "./release-cache.ts";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "./restart-policy.ts";
import { RunnerClient } from "./runner/client.ts";
import { Runner, type RunnerOptions } from "./runner/runner.ts";
import { lockDataDir, writeIdentity } from "./state.ts";
import { TaskRunner } from "./tasks.ts";

export const AGENT_VERSION = "0.1.0";

export interface AgentOptions {
  server: string;
  token: string;
  name: string;
  labels: Record<string, string>;
  address: string;
  dataDir: string;
  stopServicesOnExit: boolean;
  /** Also run pipeline jobs; `only`: and be no deployment target. */
  runner?: { slots: number; only: boolean; stopGraceMs?: number } | undefined;
}

export interface AgentDeps {
  logger: Logger;
  now?: () => number;
  restartPolicy?: RestartPolicy;
  /** The environment services inherit (SLIPWAY_* removed). */
  env?: NodeJS.ProcessEnv;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Retries while the server is away back off, but not far: a server restarted mid-deployment
 * should find its agents back within seconds, and even a thousand hosts retrying every few
 * seconds is little load.
 */
const MAX_RETRY_DELAY_MS = 4_000;

export class Agent {
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #client: AgentClient;
  readonly #shipper: LogShipper;
  readonly #releases: ReleaseCache;
  readonly #tasks: TaskRunner;
  readonly #services = new Map<string, ServiceReconciler>();
  readonly #metrics: MetricsScraper;
  readonly #restartPolicy: RestartPolicy;
  readonly #env: NodeJS.ProcessEnv;
  readonly #stop = new AbortController();
  #hostId: string | undefined;
  #registered: AgentRegistered | undefined;
  #appliedGeneration = -1;
  #latestGeneration = -1;
  #reportTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #reporting: Promise<void> | undefined;
  #reportAgain = false;
  #unlock: (() => Promise<void>) | undefined;
  #loop: Promise<void> | undefined;
  #runner: Runner | undefined;
  #reregistering: Promise<void> | undefined;
  #stopRequested = false;

  constructor(options: AgentOptions, deps: AgentDeps) {
    this.#o = options;
    this.#log = deps.logger.child({ host: options.name });
    this.#now = deps.now ?? Date.now;
    this.#restartPolicy = deps.restartPolicy ?? DEFAULT_RESTART_POLICY;
    this.#env = deps.env ?? process.env;
    this.#client = new AgentClient({ server: options.server, token: options.token });
    this.#shipper = new LogShipper({ logger: this.#log, send: (lines) => this.#client.logs({ host_id: this.#hostId ?? "", lines }) });
    this.#releases = new ReleaseCache({ source: this.#client, downloadsDir: join(options.dataDir, "downloads"), now: this.#now, logger: this.#log });
    const shared = { dataDir: options.dataDir, address: options.address, hostName: options.name, baseEnv: this.#env, releases: this.#releases, now: this.#now };
    this.#tasks = new TaskRunner({ ...shared, logger: this.#log, onChange: () => this.#scheduleReport() });
    const targets = () => [...this.#services.values()].flatMap((r) => metricTargetOf(r, options.address, this.#env) ?? []);
    this.#metrics = new MetricsScraper({ targets, send: metricsSender(this.#client.http, () => this.#hostId), logger: this.#log, now: this.#now });
  }

  get hostId(): string | undefined {
    return this.#hostId;
  }

  get roles(): HostRole[] {
    if (!this.#o.runner) return ["host"];
    return this.#o.runner.only ? ["runner"] : ["host", "runner"];
  }

  get runner(): Runner | undefined {
    return this.#runner;
  }

  /** Resolves once registered; the loop then runs until stop(). */
  async start(): Promise<{ host_id: string }> {
    this.#unlock = await lockDataDir(this.#o.dataDir);
    const host = this.roles.includes("host");
    if (host) {
      await this.#tasks.init();
      for (const service of await listServicesOnDisk(this.#o.dataDir)) await this.#reconciler(service).resume();
    }
    await this.#register(true);
    if (host) this.#loop = this.#pollLoop();
    if (host) this.#metrics.start();
    if (this.#o.runner) this.#startRunner(this.#o.runner);
    return { host_id: this.#hostId ?? "" };
  }

  #startRunner(options: Omit<RunnerOptions, "dataDir">): void {
    this.#runner = new Runner(
      { ...options, dataDir: this.#o.dataDir },
      {
        client: new RunnerClient(this.#client.http),
        hostId: () => this.#hostId ?? "",
        logger: this.#log.child({ role: "runner" }),
        reregister: () => this.#reregister(),
        baseEnv: this.#env,
        now: this.#now,
      },
    );
    this.#runner.start();
  }

  #reconciler(service: string): ServiceReconciler {
    let reconciler = this.#services.get(service);
    if (!reconciler) {
      reconciler = new ServiceReconciler(service, {
        dataDir: this.#o.dataDir,
        address: this.#o.address,
        hostName: this.#o.name,
        baseEnv: this.#env,
        releases: this.#releases,
        now: this.#now,
        logger: this.#log,
        restartPolicy: this.#restartPolicy,
        shipper: this.#shipper,
        onChange: () => this.#scheduleReport(),
        protectedVersions: (name) => this.#tasks.protectedVersions(name),
      });
      this.#services.set(service, reconciler);
    }
    return reconciler;
  }

  async #register(first: boolean): Promise<void> {
    let delay = 500;
    for (;;) {
      try {
        const registered = await this.#client.register({ name: this.#o.name, address: this.#o.address, labels: this.#o.labels, version: AGENT_VERSION, roles: this.roles }, this.#stop.signal);
        this.#registered = registered;
        this.#hostId = registered.host.id;
        await writeIdentity(this.#o.dataDir, { host_id: registered.host.id, name: this.#o.name, server: this.#o.server });
        this.#log.info({ host_id: registered.host.id, heartbeat_interval_ms: registered.heartbeat_interval_ms }, "registered with the server");
        this.#startHeartbeat(registered.heartbeat_interval_ms);
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) throw new Error("the agent stopped before it could register", { cause: error });
        // A refusal (bad token, bad name) at the first start is the operator's to fix now.
        if (first && error instanceof AgentHttpError && !error.transient) throw error;
        this.#log.warn({ err: (error as Error).message, retry_in_ms: delay }, "could not register; retrying");
        await sleep(delay, this.#stop.signal);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  /** Registers again (one attempt at a time, shared by the desired-state loop and the runner). */
  #reregister(): Promise<void> {
    return (this.#reregistering ??= this.#register(false).finally(() => (this.#reregistering = undefined)));
  }

  async #pollLoop(): Promise<void> {
    let after = -1;
    let delay = 500;
    while (!this.#stop.signal.aborted) {
      try {
        const timeoutMs = this.#registered?.poll_timeout_ms ?? 25_000;
        const desired = await this.#client.desired(this.#hostId ?? "", after, timeoutMs, this.#stop.signal);
        delay = 500;
        if (desired.generation !== after) {
          after = desired.generation;
          this.#apply(desired);
        }
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        if (error instanceof AgentHttpError && error.status === 404) {
          // The server lost this host (a new store?): register again, then start from scratch.
          this.#log.warn("the server does not know this host; registering again");
          await this.#reregister().catch(() => undefined);
          after = -1;
          continue;
        }
        this.#log.warn({ err: (error as Error).message, retry_in_ms: delay }, "could not reach the server for the desired state; retrying");
        await sleep(delay + Math.floor(Math.random() * 250), this.#stop.signal);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  #apply(desired: DesiredState): void {
    this.#log.info({ generation: desired.generation, services: desired.services.length, tasks: desired.tasks.length }, "new desired state");
    const wanted = new Map(desired.services.map((s) => [s.service, s]));
    for (const name of wanted.keys()) this.#reconciler(name);
    const all = [...this.#services.values()];
    // Tasks first: their releases must be protected from pruning before any service converges.
    this.#tasks.setDesired(desired.tasks);
    for (const reconciler of all) reconciler.setDesired(wanted.get(reconciler.service) ?? null);
    this.#latestGeneration = desired.generation;
    void Promise.all(all.map((r) => r.whenIdle())).then(() => {
      // Applied = every service has made its attempt at this generation (a newer one may follow).
      if (this.#latestGeneration === desired.generation) this.#appliedGeneration = desired.generation;
      this.#scheduleReport(0);
    });
    const needed = new Set([...desired.services.flatMap((s) => (s.release ? [s.release.artifact_sha256] : [])), ...desired.tasks.map((t) => t.release.artifact_sha256)]);
    void cleanDownloads(join(this.#o.dataDir, "downloads"), needed);
  }

  #startHeartbeat(intervalMs: number): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#scheduleReport(0), Math.max(500, intervalMs));
    this.#scheduleReport(0);
  }

  /** Reports soon, coalescing bursts of changes into one request. */
  #scheduleReport(delayMs = 100): void {
    if (this.#stop.signal.aborted || this.#reportTimer) return;
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      void this.report();
    }, delayMs);
  }

  async buildReport(): Promise<AgentReport> {
    const services = [];
    for (const reconciler of this.#services.values()) {
      if (!reconciler.serviceId) continue;
      services.push(await reconciler.process.actual(reconciler.serviceId, reconciler.attemptedReleaseId, reconciler.attemptError));
    }
    return { host_id: this.#hostId ?? "", generation: this.#appliedGeneration, services, tasks: this.#tasks.reports() };
  }

  /** Sends one report (one at a time; a change during a send triggers another). Never throws. */
  report(): Promise<void> {
    if (!this.#hostId) return Promise.resolve();
    if (this.#reporting) {
      this.#reportAgain = true;
      return this.#reporting;
    }
    this.#reporting = (async () => {
      do {
        this.#reportAgain = false;
        try {
          await this.#client.report(await this.buildReport());
        } catch (error) {
          this.#log.debug({ err: (error as Error).message }, "could not send the report; the next heartbeat will");
          return;
        }
      } while (this.#reportAgain);
    })().finally(() => {
      this.#reporting = undefined;
    });
    return this.#reporting;
  }

  /** Stops the loop; the services keep running unless the agent was started with stopServicesOnExit. */
  async stop(): Promise<void> {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    // Jobs first: they may still need the server, for their last log lines and their outcome.
    await this.#runner?.stop();
    this.#stop.abort(new Error("the agent is stopping"));
    this.#metrics.stop();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
    await this.#loop?.catch(() => undefined);
    await Promise.all([...this.#services.values()].map((r) => r.shutdown(this.#o.stopServicesOnExit)));
    const last = AbortSignal.timeout(3000);
    await Promise.race([Promise.all([this.#shipper.flush(), this.#metrics.flush(), this.#finalReport()]), new Promise((resolve) => last.addEventListener("abort", resolve))]);
    this.#shipper.close();
    await this.#unlock?.();
    this.#log.info({ stopped_services: this.#o.stopServicesOnExit }, "agent stopped");
  }

  async #finalReport(): Promise<void> {
    await this.#reporting;
    if (!this.#hostId) return;
    await this.#client.report(await this.buildReport()).catch(() => undefined);
  }
}
