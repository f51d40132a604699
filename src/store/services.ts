// Services: a repository and its environments in order. Updates quote the revision they were
// made against; a stale revision is refused rather than silently overwriting someone's change.
import type { Kysely } from "kysely";
import { conflict, notFound } from "../core/errors.ts";
import type { Environment, Service, ServiceCreate, ServiceUpdate } from "../contracts/services.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { isUniqueViolation } from "./db-errors.ts";
import { iso, newId } from "./ids.ts";
import { inTransaction } from "./transaction.ts";
import type { Database, ServicesTable } from "./schema.ts";

type ResolvedEnvironment = Required<Environment>;

const PRODUCTION_NAMES = new Set(["production", "prod"]);

function resolveEnvironments(environments: Environment[]): ResolvedEnvironment[] {
  return environments.map((env) => ({ name: env.name, selector: env.selector, production: env.production ?? PRODUCTION_NAMES.has(env.name), auto: env.auto, git_refs: env.git_refs }));
}

const toService = (row: ServicesTable): Service => ({
  id: row.id,
  name: row.name,
  repository_url: row.repository_url,
  // Environments stored before `auto` and `git_refs` existed read as their defaults.
  environments: (JSON.parse(row.environments) as ResolvedEnvironment[]).map((env) => ({ ...env, auto: env.auto ?? false, git_refs: env.git_refs ?? null })),
  revision: row.revision,
  created_at: iso(row.created_at),
  updated_at: iso(row.updated_at),
});

export async function createService(db: Kysely<Database>, actor: ActorContext, input: ServiceCreate): Promise<Service> {
  const row: ServicesTable = {
    id: newId("svc", actor.now),
    tenant_id: actor.tenantId,
    name: input.name,
    repository_url: input.repository_url,
    environments: JSON.stringify(resolveEnvironments(input.environments)),
    created_at: actor.now,
    updated_at: actor.now,
    revision: 1,
    webhook_secret: null,
    run_counter: 0,
  };
  try {
    await inTransaction(db, async (trx) => {
      await trx.insertInto("services").values(row).execute();
      await recordAudit(trx, actor, "service.create", { type: "service", id: row.id }, { name: row.name, repository_url: row.repository_url });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`service '${input.name}' already exists`);
    throw error;
  }
  return toService(row);
}

async function findRow(db: Kysely<Database>, tenantId: string, nameOrId: string): Promise<ServicesTable | undefined> {
  return db
    .selectFrom("services")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb.or([eb("name", "=", nameOrId), eb("id", "=", nameOrId)]))
    .executeTakeFirst();
}

export async function getService(db: Kysely<Database>, tenantId: string, nameOrId: string): Promise<Service> {
  const row = await findRow(db, tenantId, nameOrId);
  if (!row) throw notFound("service", nameOrId);
  return toService(row);
}

export async function listServices(db: Kysely<Database>, tenantId: string): Promise<Service[]> {
  const rows = await db.selectFrom("services").selectAll().where("tenant_id", "=", tenantId).orderBy("name").execute();
  return rows.map(toService);
}

export async function updateService(db: Kysely<Database>, actor: ActorContext, nameOrId: string, input: ServiceUpdate): Promise<Service> {
  return inTransaction(db, async (trx) => {
    const row = await findRow(trx, actor.tenantId, nameOrId);
    if (!row) throw notFound("service", nameOrId);
    const changes: Partial<ServicesTable> = { updated_at: actor.now, revision: input.revision + 1 };
    if (input.repository_url !== undefined) changes.repository_url = input.repository_url;
    if (input.environments !== undefined) changes.environments = JSON.stringify(resolveEnvironments(input.environments));
    const result = await trx.updateTable("services").set(changes).where("id", "=", row.id).where("revision", "=", input.revision).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      throw conflict(`service '${row.name}' changed since revision ${input.revision} (now ${row.revision}); reload it and try again`);
    }
    await recordAudit(trx, actor, "service.update", { type: "service", id: row.id }, { revision: input.revision + 1, fields: Object.keys(input).filter((k) => k !== "revision") });
    return toService({ ...row, ...changes });
  });
}
