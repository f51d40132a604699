// The deployment controller: the loop that drives every unfinished deployment. Each pass reads
// a deployment and what its hosts report, asks the pure state machine what follows, and writes
// the answer as one compare-and-set transition. It holds no state of its own between passes,
// so a server killed at any moment resumes exactly where the database says it was; replicas
// share the work through leases.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { CannotTransitionError } from "../core/errors.ts";
import type { RolloutSettings } from "../core/manifest/schema.ts";
import { step } from "../core/rollout/machine.ts";
import type { DeploymentEvent, DeploymentSnapshot, DeploymentState, Progress, StepResult } from "../core/rollout/types.ts";
import type { Changes } from "../store/changes.ts";
import { applyTransition, claimLease, migrationStatus, unfinishedDeployments, type DeploymentRow } from "../store/deployments.ts";
import { liveAndPrevious } from "../store/environments.ts";
import type { Database } from "../store/schema.ts";
import { getService } from "../store/services.ts";
import type { CanaryAnalyst } from "./analysis.ts";
import { PassLoop } from "./pass-loop.ts";
import { hostViews, hostsById, selectEnvironmentHosts } from "./host-views.ts";

export interface ControllerDeps {
  db: Kysely<Database>;
  changes: Changes;
  clock: () => number;
  logger: Pick<Logger, "info" | "warn" | "error" | "debug">;
  /** This replica's name, for leases. */
  owner: string;
  intervalMs?: number;
  leaseMs?: number;
  /** Looks at canaries' metrics while a deployment analyzes a stage; without it, stages are only watched. */
  analyst?: CanaryAnalyst;
}

export const snapshotOf = (row: DeploymentRow): DeploymentSnapshot => ({
  state: row.state as DeploymentState,
  releaseId: row.release_id,
  kind: row.kind === "rollback" ? "rollback" : "deploy",
  settings: JSON.parse(row.settings) as RolloutSettings,
  hasMigration: row.has_migration === 1,
  progress: row.progress === null ? null : (JSON.parse(row.progress) as Progress),
});

const isNoop = (row: DeploymentRow, result: StepResult) =>
  result.state === row.state && result.effects.length === 0 && result.reason === undefined && JSON.stringify(result.progress) === (row.progress ?? "null");

export class DeploymentController {
  private readonly deps: ControllerDeps;
  // Reports and new deployments wake the loop at once instead of at the next interval.
  private readonly loop: PassLoop;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.loop = new PassLoop({
      pass: () => this.pass(),
      onError: (error) => deps.logger.error({ err: error }, "deployment controller pass failed"),
      changes: deps.changes,
      wakeOn: ["host", "deployment"],
      intervalMs: deps.intervalMs ?? 250,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a pass now, or right after the one in progress. */
  poke(): void {
    this.loop.poke();
  }

  /** One pass over every unfinished deployment. Exposed for tests. */
  async pass(): Promise<void> {
    const rows = await unfinishedDeployments(this.deps.db);
    const lanes = new Map<string, DeploymentRow[]>();
    for (const row of rows) {
      const key = `${row.service_id}/${row.environment}`;
      lanes.set(key, [...(lanes.get(key) ?? []), row]);
    }
    for (const lane of lanes.values()) {
      const active = lane.find((row) => row.state !== "queued");
      try {
        if (active) await this.drive(active);
        else await this.startNext(lane);
      } catch (error) {
        if (error instanceof CannotTransitionError) this.deps.logger.debug({ err: error }, "another pass moved the deployment first");
        else this.deps.logger.error({ err: error, deployment: (active ?? lane[0])?.id }, "could not advance deployment");
      }
    }
  }

  private async startNext(lane: DeploymentRow[]): Promise<void> {
    // Only one deployment per service and environment runs; rollbacks go first, then in order.
    const next = [...lane].sort((a, b) => Number(b.kind === "rollback") - Number(a.kind === "rollback") || a.created_at - b.created_at)[0];
    if (!next || !(await this.lease(next))) return;
    const { db } = this.deps;
    const now = this.deps.clock();
    const service = await getService(db, next.tenant_id, next.service_id);
    const environment = service.environments.find((env) => env.name === next.environment);
    const hosts = await selectEnvironmentHosts(db, next.tenant_id, environment?.selector ?? {});
    const views = await hostViews(db, hosts, next.service_id, next.release_id, now);
    const { live } = await liveAndPrevious(db, next.service_id, next.environment);
    await this.transition(next, { type: "start", now, hosts: views }, "slipway", live?.id ?? null);
  }

  private async drive(row: DeploymentRow): Promise<void> {
    if (!(await this.lease(row))) return;
    const { db } = this.deps;
    const now = this.deps.clock();
    const snapshot = snapshotOf(row);
    const hosts = await hostsById(db, Object.keys(snapshot.progress?.hosts ?? {}));
    const views = await hostViews(db, hosts, row.service_id, row.release_id, now);
    const migration = row.state === "migrating" ? await migrationStatus(db, row.id) : undefined;
    const analysis = await this.deps.analyst?.look(row, snapshot, hosts, now);
    await this.transition(row, { type: "observe", now, hosts: views, ...(migration ? { migration } : {}), ...(analysis ? { analysis } : {}) }, "slipway", undefined, snapshot);
  }

  private lease(row: DeploymentRow): Promise<boolean> {
    return claimLease(this.deps.db, row.id, this.deps.owner, this.deps.clock(), this.deps.leaseMs ?? 10_000);
  }

  private async transition(row: DeploymentRow, event: DeploymentEvent, actor: string, previousReleaseId?: string | null, snapshot = snapshotOf(row)): Promise<void> {
    const result = step(snapshot, event);
    if (isNoop(row, result)) return;
    await commit(this.deps, row, result, actor, event.now, previousReleaseId);
  }
}

/** Writes a transition and wakes whoever should look again: the hosts it changed, the dashboards. */
export async function commit(deps: Pick<ControllerDeps, "db" | "changes" | "logger">, row: DeploymentRow, result: StepResult, actor: string, now: number, previousReleaseId?: string | null): Promise<void> {
  const woken = await applyTransition(deps.db, { row, result, actor, now, ...(previousReleaseId !== undefined ? { previousReleaseId } : {}) });
  for (const hostId of woken) deps.changes.hostDesiredChanged(hostId);
  if (result.state !== row.state) deps.logger.info({ deployment: row.id, service: row.service_name, environment: row.environment, from: row.state, to: result.state, reason: result.reason }, "deployment transition");
  deps.changes.tenantChanged({ tenantId: row.tenant_id, kind: "deployment", id: row.id });
}
