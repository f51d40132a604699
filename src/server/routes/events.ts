// Live updates for dashboards and `--follow`: Server-Sent Events of the tenant's changes, and
// the log lines agents ship for a host's service.
import { z } from "zod";
import { tailLogs } from "../../store/host-logs.ts";
import { getHost } from "../../store/hosts.ts";
import { getService } from "../../store/services.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

const KEEPALIVE_MS = 15_000;

export function eventRoutes(app: TypedApp, { store: { db }, changes, clock }: AppDeps): void {
  // Each event says what changed (`{kind, id}`); clients read the new state through the API.
  app.get("/events", { schema: { tags: ["events"], description: "text/event-stream of {kind, id} changes in the tenant" } }, async (request, reply) => {
    const { auth } = authorize(request, "read", clock());
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-request-id": request.id });
    out.write(": connected\n\n");
    const unsubscribe = changes.onTenant(auth.tenantId, (change) => out.write(`event: change\ndata: ${JSON.stringify({ kind: change.kind, id: change.id })}\n\n`));
    const keepalive = setInterval(() => out.write(": keepalive\n\n"), KEEPALIVE_MS);
    request.raw.once("close", () => {
      clearInterval(keepalive);
      unsubscribe();
    });
  });

  app.get(
    "/hosts/:id/services/:service/logs",
    {
      schema: {
        tags: ["hosts"],
        params: z.object({ id: z.string(), service: z.string() }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(2000).default(200), after: z.coerce.number().int().optional() }),
        response: { 200: z.object({ items: z.array(z.object({ id: z.number(), stream: z.string(), line: z.string(), at: z.number() })) }), ...errorResponses },
      },
    },
    async (request) => {
      const { auth, actor } = authorize(request, "read", clock());
      const host = await getHost(db, auth.tenantId, request.params.id, actor.now);
      const service = await getService(db, auth.tenantId, request.params.service);
      return { items: await tailLogs(db, auth.tenantId, host.id, service.id, { limit: request.query.limit, afterId: request.query.after }) };
    },
  );
}
