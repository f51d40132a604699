// The tenant's audit log, newest first, paged by id.
import { AuditEntry, AuditQuery } from "../../contracts/audit.ts";
import { listAudit } from "../../store/audit.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

export function auditRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  app.get("/audit", { schema: { tags: ["audit"], querystring: AuditQuery, response: { 200: listOf(AuditEntry), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return { items: await listAudit(db, auth.tenantId, request.query) };
  });
}
