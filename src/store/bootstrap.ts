// First start on an empty store: a `default` tenant, an `admin` user who is a system admin, and
// one admin token, returned so the caller can print it once. When two servers start on one
// empty PostgreSQL at once, one wins and the other finds the work done.
import type { Kysely } from "kysely";
import type { TokenCreated } from "../contracts/tenancy.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { isUniqueViolation } from "./db-errors.ts";
import { newId } from "./ids.ts";
import { inTransaction } from "./transaction.ts";
import type { Database } from "./schema.ts";
import { createToken } from "./tokens.ts";

export async function bootstrapIfEmpty(db: Kysely<Database>, now: number): Promise<TokenCreated | undefined> {
  const anyUser = await db.selectFrom("users").select("id").limit(1).executeTakeFirst();
  if (anyUser) return undefined;
  try {
    return await inTransaction(db, async (trx) => {
      const tenantId = newId("ten", now);
      const userId = newId("usr", now);
      await trx.insertInto("tenants").values({ id: tenantId, name: "default", created_at: now }).execute();
      await trx.insertInto("users").values({ id: userId, name: "admin", email: null, system_admin: 1, created_at: now }).execute();
      await trx.insertInto("memberships").values({ tenant_id: tenantId, user_id: userId, role: "admin", created_at: now }).execute();
      const actor: ActorContext = { tenantId, userId, actorName: "slipway (bootstrap)", requestId: null, ip: null, now };
      await recordAudit(trx, actor, "tenant.create", { type: "tenant", id: tenantId }, { name: "default", bootstrap: true });
      return createToken(trx, actor, { userId, name: "bootstrap admin", kind: "user" });
    });
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
}
