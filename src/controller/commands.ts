// What people ask of deployments: start one, resume, cancel or roll back one, and roll an
// environment back to its previous live release. Each goes through the same state machine
// and compare-and-set write as the controller's own steps.
import type { Kysely } from "kysely";
import { CannotTransitionError, conflict } from "../core/errors.ts";
import { step } from "../core/rollout/machine.ts";
import { isTerminal, type DeploymentState } from "../core/rollout/types.ts";
import type { RolloutOverride } from "../core/manifest/schema.ts";
import type { ActorContext } from "../store/audit.ts";
import { createDeployment, getDeploymentRow, unfinishedDeployments, type DeploymentRow } from "../store/deployments.ts";
import { liveAndPrevious } from "../store/environments.ts";
import type { Database } from "../store/schema.ts";
import { getService } from "../store/services.ts";
import { inTransaction } from "../store/transaction.ts";
import { commit, snapshotOf, type ControllerDeps } from "./deployments.ts";

export type CommandDeps = Pick<ControllerDeps, "db" | "changes" | "logger">;

/** Whether deploying to this environment needs the production permission. */
export async function isProductionEnvironment(db: Kysely<Database>, tenantId: string, service: string, environment: string): Promise<boolean> {
  const found = (await getService(db, tenantId, service)).environments.find((env) => env.name === environment);
  return found?.production ?? false;
}

export async function requestDeployment(deps: CommandDeps, actor: ActorContext, input: { service: string; environment: string; version: string; rollout?: RolloutOverride }): Promise<DeploymentRow> {
  const row = await createDeployment(deps.db, actor, { ...input, kind: "deploy" });
  deps.changes.tenantChanged({ tenantId: actor.tenantId, kind: "deployment", id: row.id });
  return row;
}

export type DeploymentCommand = "resume" | "cancel" | "rollback";

export async function commandDeployment(deps: CommandDeps, actor: ActorContext, id: string, command: DeploymentCommand): Promise<DeploymentRow> {
  const row = await getDeploymentRow(deps.db, actor.tenantId, id);
  const state = row.state as DeploymentState;
  if (isTerminal(state)) throw conflict(`deployment ${id} has already ${state.replace("_", " ")}`);
  const event =
    command === "resume"
      ? ({ type: "resume", now: actor.now, by: actor.actorName } as const)
      : ({ type: command, now: actor.now, by: actor.actorName, reason: command === "cancel" ? "cancelled" : "rollback requested" } as const);
  const result = step(snapshotOf(row), event);
  if (result.state === row.state && result.reason === undefined) {
    throw conflict(`a ${state.replace("_", " ")} deployment cannot be ${command === "resume" ? "resumed" : command === "cancel" ? "cancelled" : "rolled back"}`);
  }
  await commit(deps, row, result, actor.actorName, actor.now);
  return getDeploymentRow(deps.db, actor.tenantId, id);
}

/**
 * Returns an environment to its previous live release: a deployment of that release to every
 * host at once (each host still has it unpacked, so it is a symlink flip and a restart). What
 * was running or waiting in the environment is cancelled first; the rollback supersedes it.
 */
export async function rollbackEnvironment(deps: CommandDeps, actor: ActorContext, service: string, environment: string): Promise<DeploymentRow> {
  const svc = await getService(deps.db, actor.tenantId, service);
  const { live, previous } = await liveAndPrevious(deps.db, svc.id, environment);
  if (!live) throw conflict(`${svc.name} has never been deployed to ${environment}`);
  if (!previous) throw conflict(`${svc.name} has no release before ${live.version} in ${environment} to roll back to`);
  const supersede = () =>
    inTransaction(deps.db, async (trx) => {
      const rollback = await createDeployment(trx, actor, { service: svc.id, environment, version: previous.version, kind: "rollback" });
      const others = (await unfinishedDeployments(trx)).filter((d) => d.service_id === svc.id && d.environment === environment && d.id !== rollback.id);
      for (const other of others) {
        await commit({ ...deps, db: trx }, other, { state: "cancelled", progress: snapshotOf(other).progress, effects: [], reason: `superseded by rollback ${rollback.id} (by ${actor.actorName})` }, actor.actorName, actor.now);
      }
      return rollback;
    });
  // The controller may move a deployment this rollback supersedes (start the queued one) between
  // our read and our write; the whole transaction is then rolled back and done again on what is
  // there now.
  let created: DeploymentRow | undefined;
  for (let attempt = 1; created === undefined; attempt++) {
    try {
      created = await supersede();
    } catch (error) {
      if (!(error instanceof CannotTransitionError) || attempt >= 5) throw error;
    }
  }
  deps.changes.tenantChanged({ tenantId: actor.tenantId, kind: "deployment", id: created.id });
  return created;
}

