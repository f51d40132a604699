// Who am I, tenants, members with their roles, and API tokens.
import { z } from "zod";
import { forbidden, notFound } from "../../core/errors.ts";
import { IdParams } from "../../contracts/common.ts";
import { Tenant, TenantCreate, TenantCreated, Token, TokenCreate, TokenCreated, User, UserCreate, UserUpdate, WhoAmI } from "../../contracts/tenancy.ts";
import { addMember, createTenant, getMember, getTenant, listMembers, listTenantsOf, removeMember, setMemberRoles } from "../../store/tenants.ts";
import { createToken, listTokens, revokeToken } from "../../store/tokens.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

export function tenancyRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  app.get("/whoami", { schema: { tags: ["tenancy"], response: { 200: WhoAmI, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const tenant = await getTenant(db, auth.tenantId);
    if (!tenant) throw notFound("tenant", auth.tenantId);
    return {
      user: { id: auth.userId, name: auth.userName, system_admin: auth.systemAdmin },
      tenant,
      roles: auth.roles,
      token: { id: auth.tokenId, name: auth.tokenName, kind: auth.kind },
    };
  });

  app.get("/tenants", { schema: { tags: ["tenancy"], response: { 200: listOf(Tenant), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return { items: await listTenantsOf(db, auth.userId, auth.systemAdmin) };
  });

  app.post("/tenants", { schema: { tags: ["tenancy"], body: TenantCreate, response: { 201: TenantCreated, ...errorResponses } } }, async (request, reply) => {
    const { auth, actor } = authorize(request, "tenant:create", clock());
    return reply.status(201).send(await createTenant(db, { ...actor, userId: auth.userId }, request.body.name));
  });

  app.get("/users", { schema: { tags: ["tenancy"], response: { 200: listOf(User), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return { items: await listMembers(db, auth.tenantId) };
  });

  app.get("/users/:id", { schema: { tags: ["tenancy"], params: IdParams, response: { 200: User, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const user = await getMember(db, auth.tenantId, request.params.id);
    if (!user) throw notFound("user", request.params.id);
    return user;
  });

  app.post("/users", { schema: { tags: ["tenancy"], body: UserCreate, response: { 201: User, ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "member:manage", clock());
    return reply.status(201).send(await addMember(db, actor, request.body));
  });

  app.patch("/users/:id", { schema: { tags: ["tenancy"], params: IdParams, body: UserUpdate, response: { 200: User, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "member:manage", clock());
    return setMemberRoles(db, actor, request.params.id, request.body.roles);
  });

  app.delete("/users/:id", { schema: { tags: ["tenancy"], params: IdParams, response: { 204: z.null(), ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "member:manage", clock());
    await removeMember(db, actor, request.params.id);
    return reply.status(204).send(null);
  });

  app.get("/tokens", { schema: { tags: ["tenancy"], response: { 200: listOf(Token), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const all = auth.roles.includes("admin");
    return { items: await listTokens(db, auth.tenantId, all ? undefined : auth.userId) };
  });

  app.post("/tokens", { schema: { tags: ["tenancy"], body: TokenCreate, response: { 201: TokenCreated, ...errorResponses } } }, async (request, reply) => {
    const { auth, actor } = authorize(request, "read", clock());
    const userId = request.body.user_id ?? auth.userId;
    const needsAdmin = userId !== auth.userId || request.body.kind === "agent";
    if (needsAdmin) authorize(request, "token:manage", actor.now);
    if (auth.kind === "agent") throw forbidden("an agent token may not create tokens");
    const created = await createToken(db, actor, { userId, name: request.body.name, kind: request.body.kind, expiresInDays: request.body.expires_in_days });
    return reply.status(201).send(created);
  });

  app.delete("/tokens/:id", { schema: { tags: ["tenancy"], params: IdParams, response: { 200: Token, ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "read", clock());
    return revokeToken(db, actor, request.params.id, auth.roles.includes("admin"));
  });
}
