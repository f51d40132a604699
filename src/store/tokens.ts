// API tokens: 32 random bytes shown once, stored only as their SHA-256 (a high-entropy secret
// needs no slow hash), bound to one user in one tenant, revocable, with a last-used time.
import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { forbidden, notFound } from "../core/errors.ts";
import { isRole, type Role } from "../core/auth/roles.ts";
import type { Token, TokenCreated } from "../contracts/tenancy.ts";
import { inTransaction } from "./transaction.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { iso, isoOrNull, newId } from "./ids.ts";
import type { ApiTokensTable, Database } from "./schema.ts";

const TOKEN_PREFIX = "slw_";
/** A token's last-used time is written at most this often, so reads do not become writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

const toToken = (row: ApiTokensTable): Token => ({
  id: row.id,
  name: row.name,
  kind: row.kind === "agent" ? "agent" : "user",
  user_id: row.user_id,
  prefix: row.prefix,
  created_at: iso(row.created_at),
  expires_at: isoOrNull(row.expires_at),
  last_used_at: isoOrNull(row.last_used_at),
  revoked_at: isoOrNull(row.revoked_at),
});

export async function createToken(
  db: Kysely<Database>,
  actor: ActorContext,
  input: { userId: string; name: string; kind: "user" | "agent"; expiresInDays?: number | undefined },
): Promise<TokenCreated> {
  const secret = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const row: ApiTokensTable = {
    id: newId("tok", actor.now),
    tenant_id: actor.tenantId,
    user_id: input.userId,
    name: input.name,
    kind: input.kind,
    token_hash: hashToken(secret),
    prefix: secret.slice(0, 10),
    created_at: actor.now,
    expires_at: input.expiresInDays ? actor.now + input.expiresInDays * 86_400_000 : null,
    last_used_at: null,
    revoked_at: null,
  };
  await inTransaction(db, async (trx) => {
    const member = await trx.selectFrom("memberships").select("role").where("tenant_id", "=", actor.tenantId).where("user_id", "=", input.userId).executeTakeFirst();
    if (!member) throw notFound("user", input.userId);
    await trx.insertInto("api_tokens").values(row).execute();
    await recordAudit(trx, actor, "token.create", { type: "token", id: row.id }, { name: input.name, kind: input.kind, user_id: input.userId });
  });
  return { ...toToken(row), token: secret };
}

export async function listTokens(db: Kysely<Database>, tenantId: string, userId?: string): Promise<Token[]> {
  let query = db.selectFrom("api_tokens").selectAll().where("tenant_id", "=", tenantId);
  if (userId !== undefined) query = query.where("user_id", "=", userId);
  return (await query.orderBy("created_at", "desc").execute()).map(toToken);
}

/** Revokes a token of the tenant. Only its owner or someone allowed to manage tokens may. */
export async function revokeToken(db: Kysely<Database>, actor: ActorContext, tokenId: string, mayManageOthers: boolean): Promise<Token> {
  return inTransaction(db, async (trx) => {
    const row = await trx.selectFrom("api_tokens").selectAll().where("id", "=", tokenId).where("tenant_id", "=", actor.tenantId).executeTakeFirst();
    if (!row) throw notFound("token", tokenId);
    if (row.user_id !== actor.userId && !mayManageOthers) throw forbidden("only the token's owner or an admin may revoke it");
    if (row.revoked_at !== null) return toToken(row);
    await trx.updateTable("api_tokens").set({ revoked_at: actor.now }).where("id", "=", tokenId).where("revoked_at", "is", null).execute();
    await recordAudit(trx, actor, "token.revoke", { type: "token", id: tokenId }, { name: row.name });
    return toToken({ ...row, revoked_at: actor.now });
  });
}

export interface Authenticated {
  tokenId: string;
  tokenName: string;
  kind: "user" | "agent";
  tenantId: string;
  userId: string;
  userName: string;
  systemAdmin: boolean;
  roles: Role[];
}

/** Resolves a presented secret to who it acts for, or undefined if unknown, revoked or expired. */
export async function authenticate(db: Kysely<Database>, secret: string, now: number): Promise<Authenticated | undefined> {
  if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
  // One query: the token, its user and the user's roles in the token's tenant (one row per role).
  const rows = await db
    .selectFrom("api_tokens")
    .innerJoin("users", "users.id", "api_tokens.user_id")
    .innerJoin("memberships", (join) => join.onRef("memberships.user_id", "=", "api_tokens.user_id").onRef("memberships.tenant_id", "=", "api_tokens.tenant_id"))
    .select(["api_tokens.id", "api_tokens.name", "api_tokens.kind", "api_tokens.tenant_id", "api_tokens.user_id", "api_tokens.expires_at", "api_tokens.revoked_at", "api_tokens.last_used_at", "users.name as user_name", "users.system_admin", "memberships.role"])
    .where("api_tokens.token_hash", "=", hashToken(secret))
    .execute();
  const row = rows[0];
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined;
  const roles = rows.map((r) => ({ role: r.role }));
  if (row.last_used_at === null || row.last_used_at < now - LAST_USED_RESOLUTION_MS) {
    await db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return {
    tokenId: row.id,
    tokenName: row.name,
    kind: row.kind === "agent" ? "agent" : "user",
    tenantId: row.tenant_id,
    userId: row.user_id,
    userName: row.user_name,
    systemAdmin: row.system_admin === 1,
    roles: roles.map((r) => r.role).filter(isRole),
  };
}
