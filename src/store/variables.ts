// A service's pipeline variables: given to every job's environment; a secret one is never shown
// again by the API and is masked in every log line.
import type { Kysely } from "kysely";
import { notFound } from "../core/errors.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { iso } from "./ids.ts";
import type { Database } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

export interface VariableView {
  name: string;
  secret: boolean;
  value: string | null;
  updated_at: string;
}

export async function setVariable(db: Kysely<Database>, actor: ActorContext, serviceId: string, name: string, value: string, secret: boolean): Promise<VariableView> {
  return inTransaction(db, async (trx) => {
    await trx
      .insertInto("service_variables")
      .values({ service_id: serviceId, name, tenant_id: actor.tenantId, value, secret: secret ? 1 : 0, updated_at: actor.now })
      .onConflict((oc) => oc.columns(["service_id", "name"]).doUpdateSet({ value, secret: secret ? 1 : 0, updated_at: actor.now }))
      .execute();
    await recordAudit(trx, actor, "variable.set", { type: "variable", id: `${serviceId}/${name}` }, { name, secret });
    return { name, secret, value: secret ? null : value, updated_at: iso(actor.now) };
  });
}

export async function deleteVariable(db: Kysely<Database>, actor: ActorContext, serviceId: string, name: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const deleted = await trx.deleteFrom("service_variables").where("service_id", "=", serviceId).where("name", "=", name).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound("variable", name);
    await recordAudit(trx, actor, "variable.delete", { type: "variable", id: `${serviceId}/${name}` }, { name });
  });
}

export async function listVariables(db: Kysely<Database>, serviceId: string): Promise<VariableView[]> {
  const rows = await db.selectFrom("service_variables").selectAll().where("service_id", "=", serviceId).orderBy("name").execute();
  return rows.map((r) => ({ name: r.name, secret: r.secret === 1, value: r.secret === 1 ? null : r.value, updated_at: iso(r.updated_at) }));
}

/** What a job gets: every variable in its environment, and the secret values to mask. */
export async function jobVariables(db: Kysely<Database>, serviceId: string): Promise<{ env: Record<string, string>; secrets: string[] }> {
  const rows = await db.selectFrom("service_variables").select(["name", "value", "secret"]).where("service_id", "=", serviceId).execute();
  return { env: Object.fromEntries(rows.map((r) => [r.name, r.value])), secrets: rows.filter((r) => r.secret === 1).map((r) => r.value) };
}
