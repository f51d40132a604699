// Liveness, readiness and Prometheus metrics: unauthenticated, outside /api.
import { sql } from "kysely";
import type { AppDeps, TypedApp } from "../app.ts";

export function opsRoutes(app: TypedApp, deps: AppDeps): void {
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));

  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    if (!deps.isReady()) return reply.status(503).send({ status: "not ready", reason: "starting or shutting down" });
    try {
      await sql`select 1`.execute(deps.store.db);
      return { status: "ready", store: deps.store.dialect };
    } catch (error) {
      return reply.status(503).send({ status: "not ready", reason: `database: ${(error as Error).message}` });
    }
  });

  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.header("content-type", deps.metrics.contentType);
    return deps.metrics.metrics();
  });
}
