// Deployments: request one, follow it, resume, cancel or roll it back; roll an environment back.
import { DeploymentAnalysis } from "../../contracts/analysis.ts";
import { IdParams } from "../../contracts/common.ts";
import { Deployment, DeploymentCreate, DeploymentQuery, DeploymentSummary, EnvironmentParams } from "../../contracts/deployments.ts";
import { ServiceParams } from "../../contracts/services.ts";
import { commandDeployment, isProductionEnvironment, requestDeployment, rollbackEnvironment, type DeploymentCommand } from "../../controller/commands.ts";
import { getAnalysisView } from "../../store/analysis.ts";
import { getDeploymentRow, getDeploymentView, listDeploymentRows, toSummary } from "../../store/deployments.ts";
import { getService } from "../../store/services.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize, type Authorized } from "../auth.ts";
import type { FastifyRequest } from "fastify";
import { errorResponses, listOf } from "./responses.ts";

/** Deploying to a production environment needs the deployer role; elsewhere a developer may. */
async function authorizeDeploy(deps: AppDeps, request: FastifyRequest, service: string, environment: string): Promise<Authorized> {
  const { auth } = authorize(request, "read", deps.clock());
  const production = await isProductionEnvironment(deps.store.db, auth.tenantId, service, environment);
  return authorize(request, production ? "deploy:production" : "deploy:non-production", deps.clock());
}

export function deploymentRoutes(app: TypedApp, deps: AppDeps): void {
  const { store: { db }, clock } = deps;
  const commandDeps = { db, changes: deps.changes, logger: deps.logger };
  const tags = ["deployments"];

  app.post("/services/:service/deployments", { schema: { tags, params: ServiceParams, body: DeploymentCreate, response: { 201: Deployment, ...errorResponses } } }, async (request, reply) => {
    const { actor } = await authorizeDeploy(deps, request, request.params.service, request.body.environment);
    const row = await requestDeployment(commandDeps, actor, { service: request.params.service, environment: request.body.environment, version: request.body.version, rollout: request.body.rollout });
    return reply.status(201).send(await getDeploymentView(db, actor.tenantId, row.id));
  });

  app.get("/services/:service/deployments", { schema: { tags, params: ServiceParams, querystring: DeploymentQuery, response: { 200: listOf(DeploymentSummary), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    const service = await getService(db, auth.tenantId, request.params.service);
    const rows = await listDeploymentRows(db, auth.tenantId, { serviceId: service.id, environment: request.query.environment, limit: request.query.limit });
    return { items: rows.map((row) => toSummary(row)) };
  });

  app.get("/deployments/:id", { schema: { tags, params: IdParams, response: { 200: Deployment, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return getDeploymentView(db, auth.tenantId, request.params.id);
  });

  app.get("/deployments/:id/analysis", { schema: { tags, params: IdParams, response: { 200: DeploymentAnalysis, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return getAnalysisView(db, auth.tenantId, request.params.id);
  });

  for (const command of ["resume", "cancel", "rollback"] as const satisfies DeploymentCommand[]) {
    app.post(`/deployments/:id/${command}`, { schema: { tags, params: IdParams, response: { 200: Deployment, ...errorResponses } } }, async (request) => {
      const { auth } = authorize(request, "read", clock());
      const row = await getDeploymentRow(db, auth.tenantId, request.params.id);
      const { actor } = await authorizeDeploy(deps, request, row.service_id, row.environment);
      await commandDeployment(commandDeps, actor, row.id, command);
      return getDeploymentView(db, actor.tenantId, row.id);
    });
  }

  app.post(
    "/services/:service/environments/:environment/rollback",
    { schema: { tags, params: EnvironmentParams, response: { 201: Deployment, ...errorResponses } } },
    async (request, reply) => {
      const { actor } = await authorizeDeploy(deps, request, request.params.service, request.params.environment);
      const row = await rollbackEnvironment(commandDeps, actor, request.params.service, request.params.environment);
      return reply.status(201).send(await getDeploymentView(db, actor.tenantId, row.id));
    },
  );
}
