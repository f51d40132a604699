// Tenants, users with their roles per tenant, and API tokens.
import { z } from "zod";
import { Slug, Timestamp } from "./common.ts";

export const RoleName = z.enum(["viewer", "developer", "deployer", "approver", "admin"]);

export const Tenant = z.object({ id: z.string(), name: z.string(), created_at: Timestamp });
export type Tenant = z.infer<typeof Tenant>;
export const TenantCreate = z.strictObject({ name: Slug });

export const User = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  roles: z.array(RoleName),
  system_admin: z.boolean(),
  created_at: Timestamp,
});
export type User = z.infer<typeof User>;
export const UserCreate = z.strictObject({
  name: Slug,
  email: z.email().optional(),
  roles: z.array(RoleName).min(1),
});
export const UserUpdate = z.strictObject({ roles: z.array(RoleName).min(1) });

export const TokenKind = z.enum(["user", "agent"]);
export const Token = z.object({
  id: z.string(),
  name: z.string(),
  kind: TokenKind,
  user_id: z.string(),
  prefix: z.string().describe("the first characters of the token, to recognise it"),
  created_at: Timestamp,
  expires_at: Timestamp.nullable(),
  last_used_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable(),
});
export type Token = z.infer<typeof Token>;
export const TokenCreate = z.strictObject({
  name: z.string().min(1).max(100),
  kind: TokenKind.default("user"),
  user_id: z.string().optional().describe("another member of the tenant (admins only); the caller by default"),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});
export const TokenCreated = Token.extend({ token: z.string().describe("the secret; shown only this once") });
export type TokenCreated = z.infer<typeof TokenCreated>;

export const WhoAmI = z.object({
  user: z.object({ id: z.string(), name: z.string(), system_admin: z.boolean() }),
  tenant: Tenant,
  roles: z.array(RoleName),
  token: z.object({ id: z.string(), name: z.string(), kind: TokenKind }),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

export const TenantCreated = z.object({
  tenant: Tenant,
  token: TokenCreated.describe("a token for the creator as admin of the new tenant; shown only this once"),
});
export type TenantCreated = z.infer<typeof TenantCreated>;
