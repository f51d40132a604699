// What is live where: per service and environment, the live and previous releases, every
// selected host's actual state, and the deployment in progress; plus the tenant's deploy log.
import { z } from "zod";
import { DeployLog, ServiceStatus } from "../../contracts/deployments.ts";
import { ServiceParams } from "../../contracts/services.ts";
import { hostServiceStates } from "../../store/status.ts";
import { listDeploymentRows, toSummary } from "../../store/deployments.ts";
import { liveAndPrevious } from "../../store/environments.ts";
import { getService } from "../../store/services.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

const WEEK_MS = 7 * 86_400_000;

export function statusRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  app.get("/services/:service/status", { schema: { tags: ["deployments"], params: ServiceParams, response: { 200: ServiceStatus, ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    const recent = await listDeploymentRows(db, auth.tenantId, { serviceId: service.id, limit: 200 });
    const environments = await Promise.all(
      service.environments.map(async (env) => {
        const inEnv = recent.filter((d) => d.environment === env.name);
        const active = inEnv.find((d) => !["queued", "succeeded", "failed", "rolled_back", "cancelled"].includes(d.state));
        return {
          name: env.name,
          production: env.production,
          selector: env.selector,
          ...(await liveAndPrevious(db, service.id, env.name)),
          hosts: await hostServiceStates(db, auth.tenantId, service.id, env.selector, actor.now),
          active: active ? toSummary(active) : null,
          queued: inEnv.filter((d) => d.state === "queued").length,
        };
      }),
    );
    return { service: service.name, environments };
  });

  app.get(
    "/deployments",
    { schema: { tags: ["deployments"], querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }), response: { 200: DeployLog, ...errorResponses } } },
    async (request) => {
      const { auth, actor } = authorize(request, "read", clock());
      const items = await listDeploymentRows(db, auth.tenantId, { limit: request.query.limit });
      const week = await listDeploymentRows(db, auth.tenantId, { limit: 10_000, since: actor.now - WEEK_MS });
      const shipped = week.filter((d) => d.state === "succeeded");
      const last = items.find((d) => d.state === "succeeded");
      return {
        items: items.map((row) => toSummary(row)),
        summary: {
          last_deploy_at: last?.finished_at ? new Date(last.finished_at).toISOString() : null,
          last_deploy_by: last?.created_by ?? null,
          deploys_this_week: shipped.length,
          deployers_this_week: new Set(shipped.map((d) => d.created_by)).size,
        },
      };
    },
  );
}
