// What a successful deployment sets off, written in the same transaction as its last
// transition so it happens exactly once: the release goes on to the next environment when that
// one deploys automatically, and the refs the environment asks for (a deploy tag, live and
// last_live branches) are queued for pushing to the repository.
import type { Kysely } from "kysely";
import type { Environment } from "../contracts/services.ts";
import type { ActorContext } from "./audit.ts";
import { createDeployment, type DeploymentRow } from "./deployments.ts";
import { newId } from "./ids.ts";
import type { Database } from "./schema.ts";
import { getService } from "./services.ts";

export interface RefsToPush {
  tag: string | null;
  live: string | null;
  lastLive: string | null;
}

/** Returns the deployment it queued in the next environment, if any. */
export async function afterDeploymentSucceeded(trx: Kysely<Database>, row: DeploymentRow, now: number): Promise<string | undefined> {
  if (row.kind !== "deploy") return undefined;
  const service = await getService(trx, row.tenant_id, row.service_id);
  const index = service.environments.findIndex((env) => env.name === row.environment);
  const here = service.environments[index] as Environment | undefined;
  if (here?.git_refs) await queueRefs(trx, row, here, now);
  const next = service.environments[index + 1];
  if (!next?.auto) return undefined;
  const actor: ActorContext = { tenantId: row.tenant_id, userId: null, actorName: "slipway (promotion)", requestId: null, ip: null, now };
  const promoted = await createDeployment(trx, actor, { service: service.id, environment: next.name, version: row.release_version, kind: "deploy" });
  return promoted.id;
}

async function queueRefs(trx: Kysely<Database>, row: DeploymentRow, env: Environment, now: number): Promise<void> {
  const release = await trx.selectFrom("releases").select("git_sha").where("id", "=", row.release_id).executeTakeFirst();
  if (!release?.git_sha) return;
  const count = await trx.selectFrom("environment_history").select((eb) => eb.fn.countAll().as("n")).where("service_id", "=", row.service_id).where("environment", "=", row.environment).executeTakeFirst();
  const refs: RefsToPush = {
    tag: env.git_refs?.tag ? `deploy/${row.environment}/${Number(count?.n ?? 1)}` : null,
    live: env.git_refs?.live_branch ?? null,
    lastLive: env.git_refs?.last_live_branch ?? null,
  };
  await trx
    .insertInto("git_ref_updates")
    .values({ id: newId("ref", now), tenant_id: row.tenant_id, service_id: row.service_id, deployment_id: row.id, sha: release.git_sha, refs: JSON.stringify(refs), state: "pending", attempts: 0, error: null, created_at: now, done_at: null })
    .execute();
}

export async function pendingRefUpdates(db: Kysely<Database>, limit = 20) {
  return db.selectFrom("git_ref_updates").innerJoin("services", "services.id", "git_ref_updates.service_id").selectAll("git_ref_updates").select("services.repository_url").where("git_ref_updates.state", "=", "pending").orderBy("git_ref_updates.created_at").limit(limit).execute();
}

export async function settleRefUpdate(db: Kysely<Database>, id: string, outcome: { state: "done" | "failed" | "pending"; error: string | null; now: number }): Promise<void> {
  await db
    .updateTable("git_ref_updates")
    .set((eb) => ({ state: outcome.state, error: outcome.error, attempts: eb("attempts", "+", 1), done_at: outcome.state === "pending" ? null : outcome.now }))
    .where("id", "=", id)
    .execute();
}
