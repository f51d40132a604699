// Converging one service on this host to its desired release: check before acting, so running it
// again (after a retry, a restart or kill -9 of the agent) finishes what was left and redoes
// nothing that is done.
//
//   desired release R, `current` already at R (complete)  -> make sure R's process runs (adopt it
//                                                             if alive), finish after_switch if a
//                                                             crash interrupted it
//   desired release R, `current` elsewhere               -> ensure R unpacked (download only if
//                                                             not on disk) -> before_switch ->
//                                                             stop the old process -> flip
//                                                             `current` -> start R -> after_switch
//                                                             -> prune old releases
//   desired release null (or the service gone)          -> stop the process, remove `current`
//
// Any failure before the flip leaves the old release running and is reported in `error` with
// `attempted_release_id`; the attempt is retried with backoff, and at once when desired changes.
import { mkdir } from "node:fs/promises";
import type { DesiredService, HostRelease } from "../contracts/agent.ts";
import type { ServiceManifest } from "../core/manifest/schema.ts";
import { isErrno } from "./files.ts";
import { runHook } from "./hooks.ts";
import { isUnpacked, readCurrentVersion, readReleaseMarker, serviceLayout, type ServiceLayout } from "./layout.ts";
import type { Logger } from "./logger.ts";
import { manifestOf } from "./manifest.ts";
import { processesWithEnv, readProcStat } from "./proc.ts";
import type { ReleaseCache } from "./release-cache.ts";
import { SERVICE_MARKER_ENV, serviceEnv } from "./service-env.ts";
import { ServiceProcess, type ServiceProcessDeps } from "./service-process.ts";
import { pruneReleases, readServiceState, removeCurrent, switchCurrent, writeServiceState, type ServiceState } from "./switch.ts";
import { terminateGroup, type LaunchSpec } from "./supervisor.ts";
import { logFile } from "./logs.ts";
import { removeInterruptedUnpacks } from "./unpack.ts";

export interface ReconcilerDeps extends Omit<ServiceProcessDeps, "layout" | "logger"> {
  dataDir: string;
  address: string;
  hostName: string;
  baseEnv: NodeJS.ProcessEnv;
  releases: ReleaseCache;
  logger: Logger;
  /** Versions a migration task still needs: never pruned. */
  protectedVersions: (service: string) => ReadonlySet<string>;
  retry?: { initialMs: number; maxMs: number };
}

export class ServiceReconciler {
  readonly layout: ServiceLayout;
  readonly process: ServiceProcess;
  readonly #deps: ReconcilerDeps;
  readonly #log: Logger;
  serviceId: string | null = null;
  #desired: DesiredService | null = null;
  /** False while converging to what state.json says, before the server has answered. */
  #fromServer = false;
  #dirty = false;
  #running: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = 0;
  attemptedReleaseId: string | null = null;
  attemptError: string | null = null;

  constructor(service: string, deps: ReconcilerDeps) {
    this.#deps = deps;
    this.layout = serviceLayout(deps.dataDir, service);
    this.#log = deps.logger.child({ service });
    this.process = new ServiceProcess({ ...deps, layout: this.layout, logger: this.#log });
  }

  get service(): string {
    return this.layout.service;
  }

  /**
   * At start-up: supervise again what `current` points at (adopting its process when it still
   * runs), from the release's marker, without waiting for the server.
   */
  async resume(): Promise<void> {
    await removeInterruptedUnpacks(this.layout);
    const state = await readServiceState(this.layout);
    if (!state) return;
    this.serviceId = state.service_id;
    await this.process.startTailing(state.service_id);
    const currentVersion = await readCurrentVersion(this.layout);
    const release = currentVersion === null ? undefined : (await readReleaseMarker(this.layout, currentVersion))?.release;
    if (release) {
      this.#desired = { service_id: state.service_id, service: this.service, release, keep_releases: 100 };
      this.#kick();
    }
  }

  /** What the server wants here now; null when the service is not (or no longer) on this host. */
  setDesired(desired: DesiredService | null): void {
    const changed = JSON.stringify(desired) !== JSON.stringify(this.#desired) || !this.#fromServer;
    this.#fromServer = true;
    if (!changed) return;
    if (desired) this.serviceId = desired.service_id;
    if (desired?.release?.id !== this.#desired?.release?.id) {
      this.#abort?.abort(new Error("the desired release changed"));
      this.#retryDelayMs = 0;
    }
    this.#desired = desired;
    clearTimeout(this.#retryTimer);
    this.#kick();
  }

  /** Resolves once the latest desired state has been attempted (whether or not it succeeded). */
  whenIdle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #kick(): void {
    this.#dirty = true;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      await this.#attempt();
    }
  }

  async #attempt(): Promise<void> {
    const desired = this.#desired;
    this.#abort = new AbortController();
    try {
      if (desired?.release) await this.#convergeTo(desired.release, desired.keep_releases, this.#abort.signal);
      else await this.#convergeAbsent();
      this.attemptError = null;
      this.#retryDelayMs = 0;
    } catch (error) {
      if (this.#abort.signal.aborted && this.#dirty) return; // superseded by a newer desired state
      this.attemptError = (error as Error).message.slice(0, 2000);
      const retry = this.#deps.retry ?? { initialMs: 5000, maxMs: 300_000 };
      this.#retryDelayMs = Math.min(retry.maxMs, this.#retryDelayMs ? this.#retryDelayMs * 2 : retry.initialMs);
      this.#log.warn({ err: this.attemptError, release: desired?.release?.version, retry_in_ms: this.#retryDelayMs }, "could not converge the service; will retry");
      this.#retryTimer = setTimeout(() => this.#kick(), this.#retryDelayMs);
    } finally {
      this.#deps.onChange();
    }
  }

  async #convergeTo(release: HostRelease, keep: number, signal: AbortSignal): Promise<void> {
    let manifest: ServiceManifest;
    try {
      manifest = manifestOf(release);
    } catch (error) {
      if (this.process.current?.release.id !== release.id) this.attemptedReleaseId = release.id;
      throw error;
    }
    await mkdir(this.layout.logs, { recursive: true });
    await this.process.startTailing(this.serviceId ?? release.id);
    const state: ServiceState = (await readServiceState(this.layout)) ?? { service_id: this.serviceId ?? "", release: null, previous_version: null, after_switch_done: true };
    const currentVersion = await readCurrentVersion(this.layout);
    const spec = this.#launchSpec(release, manifest);
    const hookContext = { cwd: spec.cwd, env: this.#env(release, manifest), timeoutMs: manifest.hooks.timeout };

    if (currentVersion === release.version && (await isUnpacked(this.layout, release.version, release.artifact_sha256))) {
      this.attemptedReleaseId = null;
      this.process.setCurrent(release, manifest);
      if (!this.process.runs(release.id) && !(await this.process.adopt(spec))) {
        await this.#stopEverything(manifest.run.stop_timeout);
        await this.process.start(spec, manifest.run.stop_timeout);
      }
      if (!state.after_switch_done || state.release?.id !== release.id) {
        // A crash came between the flip and the end of after_switch: finish the switch.
        await writeServiceState(this.layout, { ...state, service_id: this.serviceId ?? state.service_id, release, after_switch_done: false });
        await this.process.runAfterSwitch(manifest, hookContext);
        await writeServiceState(this.layout, { ...state, service_id: this.serviceId ?? state.service_id, release, after_switch_done: true });
      }
    } else {
      this.attemptedReleaseId = release.id;
      this.#deps.onChange();
      const started = this.#deps.now();
      const { downloaded } = await this.#deps.releases.ensureUnpacked(this.layout, release, signal);
      if (signal.aborted) throw signal.reason;
      await runHook("before_switch", manifest.hooks.before_switch, hookContext);
      if (signal.aborted) throw signal.reason;
      const old = this.process.current;
      await this.#stopEverything(old?.manifest.run.stop_timeout ?? manifest.run.stop_timeout);
      const previous = currentVersion ?? state.previous_version;
      await writeServiceState(this.layout, { service_id: this.serviceId ?? state.service_id, release, previous_version: previous, after_switch_done: false });
      await switchCurrent(this.layout, release.version);
      this.process.setCurrent(release, manifest);
      this.attemptedReleaseId = null;
      await this.process.start(spec, manifest.run.stop_timeout);
      this.#log.info({ release: release.version, from: currentVersion, downloaded, ms: this.#deps.now() - started }, "switched to the release");
      await this.process.runAfterSwitch(manifest, hookContext);
      await writeServiceState(this.layout, { service_id: this.serviceId ?? state.service_id, release, previous_version: previous, after_switch_done: true });
    }
    if (this.#fromServer) await this.#prune(release.version, keep);
  }

  async #convergeAbsent(): Promise<void> {
    const state = await readServiceState(this.layout);
    const currentVersion = await readCurrentVersion(this.layout).catch((error: unknown) => (isErrno(error, "ENOENT") ? null : Promise.reject(error as Error)));
    this.attemptedReleaseId = null;
    await this.#stopEverything(this.process.current?.manifest.run.stop_timeout ?? 10_000);
    if (currentVersion !== null) await removeCurrent(this.layout);
    this.process.setCurrent(null, null);
    if (state && (state.release !== null || currentVersion !== null)) {
      await writeServiceState(this.layout, { ...state, release: null, previous_version: currentVersion ?? state.previous_version, after_switch_done: true });
      this.#log.info({ release: currentVersion }, "stopped the service: it is no longer desired on this host");
    }
  }

  /** Stops the supervised process, and any process of this service a crash left unrecorded. */
  async #stopEverything(timeoutMs: number): Promise<void> {
    await this.process.stop(timeoutMs);
    for (const pid of processesWithEnv(SERVICE_MARKER_ENV, this.layout.root)) {
      const pgid = readProcStat(pid)?.pgrp ?? pid;
      this.#log.warn({ pid, pgid }, "stopping a process of this service that no record pointed to");
      await terminateGroup(pgid, timeoutMs, this.#log);
    }
  }

  async #prune(currentVersion: string, keep: number): Promise<void> {
    const state = await readServiceState(this.layout);
    const protect = new Set([currentVersion, ...this.#deps.protectedVersions(this.service)]);
    if (state?.previous_version) protect.add(state.previous_version);
    const removed = await pruneReleases(this.layout, keep, protect);
    if (removed.length > 0) this.#log.info({ removed, keep }, "pruned old releases");
  }

  #env(release: HostRelease, manifest: ServiceManifest): NodeJS.ProcessEnv {
    return serviceEnv(this.#deps.baseEnv, manifest, { service: this.service, release, address: this.#deps.address, hostName: this.#deps.hostName });
  }

  #launchSpec(release: HostRelease, manifest: ServiceManifest): LaunchSpec {
    return {
      command: manifest.run.start,
      cwd: this.layout.releaseDir(release.version),
      env: { ...this.#env(release, manifest), [SERVICE_MARKER_ENV]: this.layout.root },
      releaseId: release.id,
      version: release.version,
      stdoutPath: logFile(this.layout.logs, "stdout"),
      stderrPath: logFile(this.layout.logs, "stderr"),
    };
  }

  /** Stops watching (and, when asked, stops the service); no more attempts. */
  async shutdown(stopService: boolean): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#abort?.abort(new Error("the agent is shutting down"));
    this.#dirty = false;
    // A hook in progress finishes on its own (it runs in its own process group); do not wait long.
    await Promise.race([this.whenIdle().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.process.shutdown(stopService);
  }
}
