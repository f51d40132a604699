// Bearer-token authentication and per-action authorization. Every API route except the
// OpenAPI document needs a token; the token decides the tenant, so every query is scoped to it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isAllowed, type Action } from "../core/auth/roles.ts";
import { SlipwayError, forbidden } from "../core/errors.ts";
import type { ActorContext } from "../store/audit.ts";
import { authenticate, type Authenticated } from "../store/tokens.ts";
import type { AppDeps } from "./app.ts";

declare module "fastify" {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

const PUBLIC_PATHS = new Set(["/api/v1/openapi.json"]);

export function installAuth(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest("auth", null);
  app.addHook("onRequest", async (request) => {
    const path = request.url.split("?")[0] ?? "";
    // Push webhooks authenticate by their signature (routes/webhooks.ts).
    if (!path.startsWith("/api/") || PUBLIC_PATHS.has(path) || path.startsWith("/api/v1/webhooks/")) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new SlipwayError("unauthenticated", "missing bearer token (Authorization: Bearer <token>)");
    const auth = await authenticate(deps.store.db, match[1], deps.clock());
    if (!auth) throw new SlipwayError("unauthenticated", "the token is unknown, revoked or expired");
    request.auth = auth;
  });
}

export interface Authorized {
  auth: Authenticated;
  actor: ActorContext;
}

/** The caller, if they may do `action`; a `forbidden` error naming the action otherwise. */
export function authorize(request: FastifyRequest, action: Action, now: number): Authorized {
  const auth = request.auth;
  if (!auth) throw new SlipwayError("unauthenticated", "missing bearer token");
  if (!isAllowed({ kind: auth.kind, roles: auth.roles, systemAdmin: auth.systemAdmin }, action)) {
    throw forbidden(`this token may not ${action} (roles: ${auth.roles.join(", ") || "none"}${auth.kind === "agent" ? ", agent token" : ""})`);
  }
  return {
    auth,
    actor: {
      tenantId: auth.tenantId,
      userId: auth.userId,
      actorName: auth.kind === "agent" ? `${auth.userName} (agent token ${auth.tokenName})` : auth.userName,
      requestId: request.id,
      ip: request.ip,
      now,
    },
  };
}
