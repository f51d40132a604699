// Tenants (teams) and the users who belong to them with their roles.
import type { Kysely } from "kysely";
import { conflict, notFound } from "../core/errors.ts";
import { isRole, type Role } from "../core/auth/roles.ts";
import type { Tenant, TenantCreated, User } from "../contracts/tenancy.ts";
import { createToken } from "./tokens.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { isUniqueViolation } from "./db-errors.ts";
import { iso, newId } from "./ids.ts";
import { inTransaction } from "./transaction.ts";
import type { Database, TenantsTable, UsersTable } from "./schema.ts";

const toTenant = (row: TenantsTable): Tenant => ({ id: row.id, name: row.name, created_at: iso(row.created_at) });

const toUser = (row: UsersTable, roles: string[]): User => ({
  id: row.id,
  name: row.name,
  email: row.email,
  system_admin: row.system_admin === 1,
  roles: roles.filter(isRole).sort(),
  created_at: iso(row.created_at),
});

/**
 * Creates a tenant, makes the creating user its admin, and gives them a token for it (the only
 * way into a new tenant: tokens are bound to one tenant).
 */
export async function createTenant(db: Kysely<Database>, actor: ActorContext & { userId: string }, name: string): Promise<TenantCreated> {
  const row: TenantsTable = { id: newId("ten", actor.now), name, created_at: actor.now };
  try {
    return await inTransaction(db, async (trx) => {
      await trx.insertInto("tenants").values(row).execute();
      await trx.insertInto("memberships").values({ tenant_id: row.id, user_id: actor.userId, role: "admin", created_at: actor.now }).execute();
      const inNewTenant = { ...actor, tenantId: row.id };
      await recordAudit(trx, inNewTenant, "tenant.create", { type: "tenant", id: row.id }, { name });
      const token = await createToken(trx, inNewTenant, { userId: actor.userId, name: `${name} admin`, kind: "user" });
      return { tenant: toTenant(row), token };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`tenant '${name}' already exists`);
    throw error;
  }
}

export async function getTenant(db: Kysely<Database>, id: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toTenant(row) : undefined;
}

/** The tenants a user belongs to; every tenant for a system admin. */
export async function listTenantsOf(db: Kysely<Database>, userId: string, systemAdmin: boolean): Promise<Tenant[]> {
  const query = systemAdmin
    ? db.selectFrom("tenants").selectAll()
    : db
        .selectFrom("tenants")
        .selectAll("tenants")
        .where("id", "in", db.selectFrom("memberships").select("tenant_id").where("user_id", "=", userId));
  return (await query.orderBy("name").execute()).map(toTenant);
}

async function rolesIn(db: Kysely<Database>, tenantId: string, userId: string): Promise<Role[]> {
  const rows = await db.selectFrom("memberships").select("role").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
  return rows.map((r) => r.role).filter(isRole);
}

export async function getMember(db: Kysely<Database>, tenantId: string, userId: string): Promise<User | undefined> {
  const row = await db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
  if (!row) return undefined;
  const roles = await rolesIn(db, tenantId, userId);
  return roles.length > 0 ? toUser(row, roles) : undefined;
}

export async function listMembers(db: Kysely<Database>, tenantId: string): Promise<User[]> {
  const rows = await db
    .selectFrom("users")
    .innerJoin("memberships", "memberships.user_id", "users.id")
    .selectAll("users")
    .select("memberships.role")
    .where("memberships.tenant_id", "=", tenantId)
    .orderBy("users.name")
    .execute();
  const byId = new Map<string, { row: UsersTable; roles: string[] }>();
  for (const { role, ...user } of rows) {
    const entry = byId.get(user.id) ?? { row: user, roles: [] };
    entry.roles.push(role);
    byId.set(user.id, entry);
  }
  return [...byId.values()].map(({ row, roles }) => toUser(row, roles));
}

/**
 * Adds a user to the caller's tenant with the given roles, creating the user if the name is
 * new. A name that is already a member of this tenant is a conflict; membership elsewhere is
 * neither revealed nor touched.
 */
export async function addMember(
  db: Kysely<Database>,
  actor: ActorContext,
  input: { name: string; email?: string | undefined; roles: Role[]; systemAdmin?: boolean },
): Promise<User> {
  try {
    return await inTransaction(db, async (trx) => {
      let user = await trx.selectFrom("users").selectAll().where("name", "=", input.name).executeTakeFirst();
      if (!user) {
        user = { id: newId("usr", actor.now), name: input.name, email: input.email ?? null, system_admin: input.systemAdmin ? 1 : 0, created_at: actor.now };
        await trx.insertInto("users").values(user).execute();
      } else if ((await rolesIn(trx, actor.tenantId, user.id)).length > 0) {
        throw conflict(`user '${input.name}' is already a member of this tenant`);
      }
      const roles = [...new Set(input.roles)];
      await trx
        .insertInto("memberships")
        .values(roles.map((role) => ({ tenant_id: actor.tenantId, user_id: user.id, role, created_at: actor.now })))
        .execute();
      await recordAudit(trx, actor, "member.add", { type: "user", id: user.id }, { name: input.name, roles });
      return toUser(user, roles);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`user '${input.name}' was just added by someone else`);
    throw error;
  }
}

export async function setMemberRoles(db: Kysely<Database>, actor: ActorContext, userId: string, roles: Role[]): Promise<User> {
  return inTransaction(db, async (trx) => {
    const before = await rolesIn(trx, actor.tenantId, userId);
    if (before.length === 0) throw notFound("user", userId);
    const unique = [...new Set(roles)];
    await trx.deleteFrom("memberships").where("tenant_id", "=", actor.tenantId).where("user_id", "=", userId).execute();
    await trx
      .insertInto("memberships")
      .values(unique.map((role) => ({ tenant_id: actor.tenantId, user_id: userId, role, created_at: actor.now })))
      .execute();
    await recordAudit(trx, actor, "member.update", { type: "user", id: userId }, { before, after: unique });
    const user = await trx.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
    return toUser(user, unique);
  });
}

/** Removes a user from the tenant and revokes their tokens for it. */
export async function removeMember(db: Kysely<Database>, actor: ActorContext, userId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const removed = await trx.deleteFrom("memberships").where("tenant_id", "=", actor.tenantId).where("user_id", "=", userId).executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw notFound("user", userId);
    await trx
      .updateTable("api_tokens")
      .set({ revoked_at: actor.now })
      .where("tenant_id", "=", actor.tenantId)
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .execute();
    await recordAudit(trx, actor, "member.remove", { type: "user", id: userId });
  });
}
