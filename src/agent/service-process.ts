// One service's running side: its supervised process, the health monitor of that process (a new
// one for every start, restart or adoption), the tailer shipping its logs, and the
// ActualService the agent reports for it.
import type { ActualService, HostRelease } from "../contracts/agent.ts";
import type { ServiceManifest } from "../core/manifest/schema.ts";
import { HookError, runHook, type HookContext } from "./hooks.ts";
import { HealthMonitor } from "./health.ts";
import { listUnpackedReleases, type ServiceLayout } from "./layout.ts";
import type { Logger } from "./logger.ts";
import type { LogShipper } from "./log-shipper.ts";
import { LogTailer, type LogTailerOptions } from "./logs.ts";
import type { RestartPolicy } from "./restart-policy.ts";
import { SERVICE_MARKER_ENV } from "./service-env.ts";
import { Supervisor, type LaunchSpec } from "./supervisor.ts";

export interface ServiceProcessDeps {
  layout: ServiceLayout;
  address: string;
  logger: Logger;
  now: () => number;
  restartPolicy: RestartPolicy;
  shipper: LogShipper;
  onChange: () => void;
  pollIntervalMs?: number;
  logRotation?: Pick<LogTailerOptions, "maxBytes" | "keep" | "pollIntervalMs">;
}

export class ServiceProcess {
  readonly #deps: ServiceProcessDeps;
  readonly #supervisor: Supervisor;
  #current: { release: HostRelease; manifest: ServiceManifest } | undefined;
  #health: HealthMonitor | undefined;
  #healthPid: number | null = null;
  #tailer: LogTailer | undefined;
  /** An after_switch failure: the switch happened, so it stays reported until the next one. */
  #switchError: string | null = null;

  constructor(deps: ServiceProcessDeps) {
    this.#deps = deps;
    this.#supervisor = new Supervisor({
      processFile: deps.layout.processFile,
      policy: deps.restartPolicy,
      now: deps.now,
      logger: deps.logger,
      onChange: () => this.#onProcessChange(),
      ...(deps.pollIntervalMs !== undefined ? { pollIntervalMs: deps.pollIntervalMs } : {}),
    });
  }

  get current(): { release: HostRelease; manifest: ServiceManifest } | undefined {
    return this.#current;
  }

  setCurrent(release: HostRelease | null, manifest: ServiceManifest | null): void {
    if (this.#current?.release.id !== release?.id) this.#switchError = null;
    this.#current = release && manifest ? { release, manifest } : undefined;
  }

  /** True when the supervisor runs (or is restarting) this release. */
  runs(releaseId: string): boolean {
    const status = this.#supervisor.status;
    return status.state !== "stopped" && status.releaseId === releaseId;
  }

  adopt(spec: LaunchSpec): Promise<boolean> {
    return this.#supervisor.adopt(spec);
  }

  start(spec: LaunchSpec, stopTimeoutMs: number): Promise<void> {
    return this.#supervisor.start(spec, stopTimeoutMs);
  }

  stop(timeoutMs: number): Promise<void> {
    return this.#supervisor.stop(timeoutMs);
  }

  async runAfterSwitch(manifest: ServiceManifest, context: HookContext): Promise<void> {
    try {
      await runHook("after_switch", manifest.hooks.after_switch, context);
    } catch (error) {
      if (!(error instanceof HookError)) throw error;
      this.#switchError = error.message;
      this.#deps.logger.warn({ err: error.message }, "after_switch hook failed; the new release stays in place");
    }
  }

  async startTailing(serviceId: string): Promise<void> {
    if (this.#tailer) return;
    this.#tailer = new LogTailer({ logsDir: this.#deps.layout.logs, serviceId, now: this.#deps.now, emit: (line) => this.#deps.shipper.push(line), ...this.#deps.logRotation });
    await this.#tailer.start();
  }

  #onProcessChange(): void {
    const status = this.#supervisor.status;
    if (status.state === "running" && status.pid !== this.#healthPid && this.#current) {
      this.#health?.stop();
      const { manifest } = this.#current;
      const env = this.#supervisorEnv();
      this.#health = new HealthMonitor(
        {
          check: manifest.run.health,
          baseUrl: manifest.run.port !== undefined ? `http://${hostForUrl(this.#deps.address)}:${manifest.run.port}` : null,
          cwd: this.#deps.layout.releaseDir(this.#current.release.version),
          env,
        },
        this.#deps.now,
        this.#deps.onChange,
        status.startedAt ?? this.#deps.now(),
      );
      this.#healthPid = status.pid;
      this.#health.start();
    } else if (status.state !== "running" && this.#health) {
      this.#health.stop();
      this.#health = undefined;
      this.#healthPid = null;
    }
    this.#deps.onChange();
  }

  /** The process's environment without its marker: a health command is not a service process. */
  #supervisorEnv(): NodeJS.ProcessEnv {
    const { [SERVICE_MARKER_ENV]: _marker, ...env } = this.#supervisor.spec?.env ?? {};
    return env;
  }

  async actual(serviceId: string, attemptedReleaseId: string | null, attemptError: string | null): Promise<ActualService> {
    const status = this.#supervisor.status;
    const health = this.#health?.state;
    const crashLoop = this.#supervisor.inCrashLoop;
    let processState: ActualService["process_state"];
    if (crashLoop) processState = "crashloop";
    else if (status.state === "backoff") processState = "failed";
    else if (status.state === "stopped") processState = "stopped";
    else processState = health && !health.everHealthy && health.health !== "unhealthy" ? "starting" : "running";
    const healthState: ActualService["health"] = crashLoop || status.state === "backoff" ? "unhealthy" : status.state === "running" ? (health?.health ?? "unknown") : "unknown";
    let error = attemptError ?? this.#switchError;
    if (!error && crashLoop) error = `crash loop: restarted ${status.restarts} times; last: ${status.lastExit ?? "exited"}`;
    if (!error && healthState === "unhealthy" && health?.lastFailure) error = `health check failing: ${health.lastFailure}`;
    const onDisk = await listUnpackedReleases(this.#deps.layout).catch(() => []);
    return {
      service_id: serviceId,
      release_id: this.#current?.release.id ?? null,
      attempted_release_id: attemptedReleaseId,
      process_state: processState,
      health: healthState,
      restarts: status.restarts,
      error: error ? error.slice(0, 2000) : null,
      pid: status.state === "running" ? status.pid : null,
      port: this.#current?.manifest.run.port ?? null,
      releases_on_disk: onDisk.map((r) => r.release_id),
    };
  }

  /** The agent exits: stop watching; stop the process only when asked (`--stop-services-on-exit`). */
  async shutdown(stopService: boolean): Promise<void> {
    this.#health?.stop();
    if (this.#tailer) {
      await this.#tailer.poll().catch(() => undefined);
      this.#tailer.stop();
    }
    if (stopService) await this.#supervisor.stop(this.#current?.manifest.run.stop_timeout ?? 10_000);
    else this.#supervisor.detach();
  }
}

/** An IPv6 address goes in brackets in a URL. */
const hostForUrl = (address: string): string => (address.includes(":") ? `[${address}]` : address);
