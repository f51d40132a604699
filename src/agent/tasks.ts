// Migration tasks (`tasks` in the desired state, kind "migrate"), run at most once each:
//
//   (new) --release unpacked, marker "started" written and fsynced--> running --> succeeded | failed
//
// The durable marker <data-dir>/tasks/<id>.json is written BEFORE backup/migrate run. An agent
// that starts and finds a marker still "started" knows a previous agent died while running it;
// since it cannot know how far the migration got, it reports it failed ("interrupted by an agent
// restart; not run again") instead of running it a second time. Preparing the release (download,
// unpack) happens before the marker and is retried freely: it changes nothing but the host's disk.
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { AgentTask, TaskReport } from "../contracts/agent.ts";
import { readJsonFile, writeJsonAtomic } from "./files.ts";
import { HookError, runHook } from "./hooks.ts";
import { serviceLayout } from "./layout.ts";
import type { Logger } from "./logger.ts";
import { manifestOf } from "./manifest.ts";
import type { ReleaseCache } from "./release-cache.ts";
import { serviceEnv } from "./service-env.ts";

export const INTERRUPTED = "interrupted by an agent restart; not run again";
const OUTPUT_LIMIT = 19_000;
const MARKER_MAX_AGE_MS = 30 * 24 * 3600_000;

export const TaskMarker = z.object({
  id: z.string(),
  service: z.string(),
  version: z.string(),
  status: z.enum(["started", "succeeded", "failed"]),
  output: z.string(),
  started_at: z.number(),
  finished_at: z.number().nullable(),
});
export type TaskMarker = z.infer<typeof TaskMarker>;

export interface TaskRunnerDeps {
  dataDir: string;
  address: string;
  hostName: string;
  baseEnv: NodeJS.ProcessEnv;
  releases: ReleaseCache;
  now: () => number;
  logger: Logger;
  onChange: () => void;
  /** Delay before preparing a task's release again after it failed (network, checksum). */
  prepareRetryMs?: number;
}

export class TaskRunner {
  readonly #deps: TaskRunnerDeps;
  readonly #dir: string;
  #desired: AgentTask[] = [];
  readonly #reports = new Map<string, TaskReport>();
  readonly #active = new Set<string>();

  constructor(deps: TaskRunnerDeps) {
    this.#deps = deps;
    this.#dir = join(deps.dataDir, "tasks");
  }

  #markerPath(id: string): string {
    return join(this.#dir, `${encodeURIComponent(id)}.json`);
  }

  /** At start-up: a task still marked "started" was interrupted by the death of the previous agent. */
  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith(".json")) continue;
      const path = join(this.#dir, name);
      const marker = await readJsonFile(path, TaskMarker);
      if (marker?.status === "started") {
        this.#deps.logger.warn({ task: marker.id, service: marker.service }, "a migration was interrupted by an agent restart; reporting it failed, not running it again");
        await writeJsonAtomic(path, { ...marker, status: "failed", output: `${marker.output}\n${INTERRUPTED}`.trim().slice(-OUTPUT_LIMIT), finished_at: this.#deps.now() });
      } else if (marker && marker.finished_at !== null && this.#deps.now() - marker.finished_at > MARKER_MAX_AGE_MS) {
        await rm(path, { force: true });
      } else if (!marker && this.#deps.now() - (await stat(path)).mtimeMs > MARKER_MAX_AGE_MS) {
        await rm(path, { force: true });
      }
    }
  }

  setDesired(tasks: AgentTask[]): void {
    this.#desired = tasks.filter((t) => t.kind === "migrate");
    for (const task of this.#desired) if (!this.#active.has(task.id)) void this.#handle(task);
  }

  /** Reports for the tasks the server currently lists. */
  reports(): TaskReport[] {
    return this.#desired.flatMap((t) => this.#reports.get(t.id) ?? []);
  }

  /** Versions the listed tasks of `service` need on disk. */
  protectedVersions(service: string): Set<string> {
    return new Set(this.#desired.filter((t) => t.service === service).map((t) => t.release.version));
  }

  async #handle(task: AgentTask): Promise<void> {
    this.#active.add(task.id);
    try {
      const marker = await readJsonFile(this.#markerPath(task.id), TaskMarker);
      if (marker) {
        // Finished before (or interrupted, which init() turned into failed): report, never rerun.
        this.#set(task.id, marker.status === "succeeded" ? "succeeded" : "failed", marker.output);
        return;
      }
      await this.#run(task);
    } catch (error) {
      this.#deps.logger.error({ err: error, task: task.id }, "migration task handling failed");
    } finally {
      this.#active.delete(task.id);
    }
  }

  async #run(task: AgentTask): Promise<void> {
    const log = this.#deps.logger.child({ task: task.id, service: task.service, release: task.release.version });
    const layout = serviceLayout(this.#deps.dataDir, task.service);
    let manifest;
    try {
      manifest = manifestOf(task.release);
    } catch (error) {
      return this.#finish(task, "failed", (error as Error).message, this.#deps.now());
    }
    this.#set(task.id, "running", "preparing the release");
    try {
      await this.#deps.releases.ensureUnpacked(layout, task.release);
    } catch (error) {
      // Nothing ran yet: report it and try again later, while the server still lists the task.
      this.#set(task.id, "running", `preparing the release failed, will retry: ${(error as Error).message}`);
      log.warn({ err: (error as Error).message }, "could not prepare the release for a migration");
      setTimeout(() => {
        if (this.#desired.some((t) => t.id === task.id) && !this.#active.has(task.id)) void this.#handle(task);
      }, this.#deps.prepareRetryMs ?? 2_000).unref();
      return;
    }
    const startedAt = this.#deps.now();
    await writeJsonAtomic(this.#markerPath(task.id), { id: task.id, service: task.service, version: task.release.version, status: "started", output: "", started_at: startedAt, finished_at: null } satisfies TaskMarker);
    this.#set(task.id, "running", "running");
    log.info("running the migration");
    const context = {
      cwd: layout.releaseDir(task.release.version),
      env: serviceEnv(this.#deps.baseEnv, manifest, { service: task.service, release: task.release, address: this.#deps.address, hostName: this.#deps.hostName }),
      timeoutMs: manifest.hooks.timeout,
    };
    let output = "";
    try {
      const backup = await runHook("backup", manifest.hooks.backup, context);
      output += backup?.output ?? "";
      const migrate = await runHook("migrate", manifest.hooks.migrate, context);
      output += migrate ? migrate.output : "the release has no migrate hook; nothing to run\n";
    } catch (error) {
      const message = error instanceof HookError ? `${error.result.output.trimEnd()}\n${error.summary}` : (error as Error).message;
      log.warn({ err: error instanceof HookError ? error.summary : error }, "the migration failed");
      return this.#finish(task, "failed", output + message, startedAt);
    }
    log.info("the migration succeeded");
    return this.#finish(task, "succeeded", output, startedAt);
  }

  async #finish(task: AgentTask, status: "succeeded" | "failed", output: string, startedAt: number): Promise<void> {
    const tail = output.trim().slice(-OUTPUT_LIMIT);
    await writeJsonAtomic(this.#markerPath(task.id), { id: task.id, service: task.service, version: task.release.version, status, output: tail, started_at: startedAt, finished_at: this.#deps.now() } satisfies TaskMarker);
    this.#set(task.id, status, tail);
  }

  #set(id: string, status: TaskReport["status"], output: string): void {
    this.#reports.set(id, { id, status, output: output.slice(-OUTPUT_LIMIT) });
    this.#deps.onChange();
  }
}
