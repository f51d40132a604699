// What starts pipeline runs without a person: pushes, seen by polling each service's repository
// (or at once when a push webhook arrives), and schedules. The branch heads last seen are kept
// in the database and written in the same transaction as the run a change starts, so a server
// killed between the two neither loses a push nor builds it twice.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { SlipwayError } from "../core/errors.ts";
import { nextCronTime, matchesPush } from "../core/pipeline/triggers.ts";
import type { Pipeline } from "../core/pipeline/schema.ts";
import { pollRepository } from "../git/poller.ts";
import type { ActorContext } from "../store/audit.ts";
import type { Changes } from "../store/changes.ts";
import type { Database, ServicesTable } from "../store/schema.ts";
import { defaultBranch, mirrorDirOf, pipelineAt, startRun } from "./run-start.ts";

export interface TriggerDeps {
  db: Kysely<Database>;
  changes: Changes;
  clock: () => number;
  logger: Pick<Logger, "info" | "warn" | "error" | "debug">;
  gitDir: string;
  /** How often each repository is polled. */
  pollIntervalMs: number;
}

const MAX_BACKOFF_MS = 30 * 60_000;

export class TriggerController {
  private readonly deps: TriggerDeps;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly backoff = new Map<string, { failures: number; until: number }>();
  private stopped = false;

  constructor(deps: TriggerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => void this.pollDue(), Math.min(this.deps.pollIntervalMs, 5_000));
    void this.pollDue();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Polls one service now (a webhook said it changed); resolves when the poll is done. */
  pollNow(serviceId: string): Promise<void> {
    const running = this.inFlight.get(serviceId);
    if (running) return running.then(() => this.pollNow(serviceId));
    const poll = this.poll(serviceId).finally(() => this.inFlight.delete(serviceId));
    this.inFlight.set(serviceId, poll);
    return poll;
  }

  private lastPolled = new Map<string, number>();

  private async pollDue(): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.clock();
    const services = await this.deps.db.selectFrom("services").select(["id"]).execute().catch(() => []);
    for (const { id } of services) {
      if (this.stopped || this.inFlight.has(id)) continue;
      if (now - (this.lastPolled.get(id) ?? 0) < this.deps.pollIntervalMs) continue;
      if ((this.backoff.get(id)?.until ?? 0) > now) continue;
      this.lastPolled.set(id, now);
      void this.pollNow(id);
    }
  }

  private async poll(serviceId: string): Promise<void> {
    const { db, logger } = this.deps;
    const service = await db.selectFrom("services").selectAll().where("id", "=", serviceId).executeTakeFirst();
    if (!service) return;
    const state = await db.selectFrom("service_git_state").selectAll().where("service_id", "=", serviceId).executeTakeFirst();
    const dir = mirrorDirOf(this.deps.gitDir, serviceId);
    try {
      const previous = state ? (JSON.parse(state.heads) as Record<string, string>) : null;
      const { heads, changes } = await pollRepository(dir, service.repository_url, previous);
      if (!state) await this.saveState(db, serviceId, { heads: Object.fromEntries(heads), polled_at: this.deps.clock(), error: null });
      for (const change of changes) await this.onPush(service, heads, change.branch, change.after);
      if (changes.length === 0 && state) await this.saveState(db, serviceId, { polled_at: this.deps.clock(), error: null, heads: Object.fromEntries(heads) });
      await this.fireSchedules(service, heads);
      this.backoff.delete(serviceId);
    } catch (error) {
      const failures = (this.backoff.get(serviceId)?.failures ?? 0) + 1;
      const delay = Math.min(this.deps.pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS);
      this.backoff.set(serviceId, { failures, until: this.deps.clock() + delay });
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ service: service.name, err: message, retry_in_ms: delay }, "could not poll the service's repository");
      await this.saveState(db, serviceId, { polled_at: this.deps.clock(), error: message.slice(0, 2000) }).catch(() => undefined);
    }
  }

  private async saveState(db: Kysely<Database>, serviceId: string, set: { heads?: Record<string, string>; polled_at: number; error: string | null; schedule_fired?: Record<string, number> }): Promise<void> {
    const values = {
      ...(set.heads ? { heads: JSON.stringify(set.heads) } : {}),
      ...(set.schedule_fired ? { schedule_fired: JSON.stringify(set.schedule_fired) } : {}),
      polled_at: set.polled_at,
      error: set.error,
    };
    await db
      .insertInto("service_git_state")
      .values({ service_id: serviceId, heads: "{}", schedule_fired: "{}", ...values })
      .onConflict((oc) => oc.column("service_id").doUpdateSet(values))
      .execute();
  }

  private actor(service: ServicesTable, name: string): ActorContext {
    return { tenantId: service.tenant_id, userId: null, actorName: name, requestId: null, ip: null, now: this.deps.clock() };
  }

  /** A branch moved: start a run when its pipeline builds pushes to it, and record the new head with it. */
  private async onPush(service: ServicesTable, heads: Map<string, string>, branch: string, sha: string): Promise<void> {
    const { db } = this.deps;
    const recordHead = async (trx: Kysely<Database>) => {
      const row = await trx.selectFrom("service_git_state").select("heads").where("service_id", "=", service.id).executeTakeFirst();
      const known = row ? (JSON.parse(row.heads) as Record<string, string>) : {};
      await this.saveStateIn(trx, service.id, { ...known, [branch]: sha });
    };
    // Branches Slipway itself moves after deployments never start runs.
    const environments = JSON.parse(service.environments) as { git_refs?: { live_branch?: string; last_live_branch?: string } | null }[];
    if (environments.some((env) => env.git_refs?.live_branch === branch || env.git_refs?.last_live_branch === branch)) {
      await recordHead(db);
      return;
    }
    let pipeline: Pipeline | undefined;
    try {
      pipeline = await pipelineAt(mirrorDirOf(this.deps.gitDir, service.id), sha);
    } catch (error) {
      // No slipway.yaml or no jobs: nothing to build. A broken file still gets a failed run that says why.
      if (!(error instanceof SlipwayError) || /no slipway.yaml|has no jobs/.test(error.message)) {
        await recordHead(db);
        return;
      }
    }
    if (pipeline && !matchesPush(pipeline.on, branch)) {
      await recordHead(db);
      return;
    }
    const run = await startRun({ db, changes: this.deps.changes, gitDir: this.deps.gitDir }, this.actor(service, "push"), { service, trigger: "push", branch, sha }, { heads, alsoRecord: recordHead });
    this.deps.logger.info({ service: service.name, branch, sha, run: run.id, number: run.number }, "push starts a pipeline run");
  }

  private async saveStateIn(trx: Kysely<Database>, serviceId: string, heads: Record<string, string>): Promise<void> {
    await trx
      .insertInto("service_git_state")
      .values({ service_id: serviceId, heads: JSON.stringify(heads), schedule_fired: "{}", polled_at: this.deps.clock(), error: null })
      .onConflict((oc) => oc.column("service_id").doUpdateSet({ heads: JSON.stringify(heads), polled_at: this.deps.clock(), error: null }))
      .execute();
  }

  /** Starts the runs whose cron time has come since they last fired (a schedule seen for the first time starts counting now). */
  private async fireSchedules(service: ServicesTable, heads: Map<string, string>): Promise<void> {
    const branch = defaultBranch(heads);
    const sha = branch ? heads.get(branch) : undefined;
    if (!branch || !sha) return;
    let pipeline: Pipeline;
    try {
      pipeline = await pipelineAt(mirrorDirOf(this.deps.gitDir, service.id), sha);
    } catch {
      return;
    }
    if (pipeline.on.schedule.length === 0) return;
    const { db } = this.deps;
    const row = await db.selectFrom("service_git_state").select("schedule_fired").where("service_id", "=", service.id).executeTakeFirst();
    const fired = row ? (JSON.parse(row.schedule_fired) as Record<string, number>) : {};
    const now = this.deps.clock();
    for (const entry of pipeline.on.schedule) {
      const key = `${entry.cron}@${entry.branch ?? ""}`;
      const last = fired[key];
      const due = last === undefined ? undefined : nextCronTime(entry.cron, last, (entry as { timezone?: string }).timezone ?? "UTC");
      if (last !== undefined && (due === undefined || due > now)) continue;
      fired[key] = now;
      const record = async (trx: Kysely<Database>) => {
        await trx.updateTable("service_git_state").set({ schedule_fired: JSON.stringify(fired) }).where("service_id", "=", service.id).execute();
      };
      if (last === undefined) {
        await record(db);
        continue;
      }
      const target = entry.branch ?? branch;
      await startRun({ db, changes: this.deps.changes, gitDir: this.deps.gitDir }, this.actor(service, "schedule"), { service, trigger: "schedule", branch: target, sha: heads.get(target) }, { heads, alsoRecord: record });
    }
  }
}
