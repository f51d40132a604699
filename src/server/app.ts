// Builds the HTTP server: Fastify with zod schemas, the OpenAPI document, auth, metrics, error
// handling and the API routes. Everything it needs is passed in; nothing is global.
import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import type { BlobStore } from "../artifacts/blob-store.ts";
import type { Changes } from "../store/changes.ts";
import type { Store } from "../store/connection.ts";
import { installAuth } from "./auth.ts";
import { installErrorHandling } from "./errors.ts";
import { instrumentRequests } from "./metrics.ts";
import { agentRoutes } from "./routes/agent.ts";
import { agentMetricsRoutes } from "./routes/agent-metrics.ts";
import { artifactRoutes } from "./routes/artifacts.ts";
import { auditRoutes } from "./routes/audit.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { pipelineRoutes } from "./routes/pipelines.ts";
import { runnerRoutes } from "./routes/runner.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { eventRoutes } from "./routes/events.ts";
import { statusRoutes } from "./routes/status.ts";
import { hostRoutes } from "./routes/hosts.ts";
import { opsRoutes } from "./routes/ops.ts";
import { releaseRoutes } from "./routes/releases.ts";
import { serviceRoutes } from "./routes/services.ts";
import { tenancyRoutes } from "./routes/tenancy.ts";
import { staticRoutes } from "./static.ts";

export interface AppDeps {
  store: Store;
  blobs: BlobStore;
  logger: FastifyBaseLogger;
  metrics: Registry;
  clock: () => number;
  changes: Changes;
  /** False while starting or shutting down; /readyz answers 503 then. */
  isReady: () => boolean;
  /** Where the services' git mirrors live. */
  gitDir: string;
  /** Polls a service's repository now (a push webhook arrived); absent when nothing polls. */
  triggers?: { pollNow(serviceId: string): Promise<void> };
}

export type App = FastifyInstance;
export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export async function buildApp(deps: AppDeps): Promise<App> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  await app.register(swagger, {
    openapi: {
      info: { title: "Slipway API", version: "1" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  installErrorHandling(app);
  instrumentRequests(app, deps.metrics);
  installAuth(app, deps);

  const typed = app.withTypeProvider<ZodTypeProvider>();
  opsRoutes(typed, deps);
  await app.register(
    async (api) => {
      const typedApi = api.withTypeProvider<ZodTypeProvider>();
      tenancyRoutes(typedApi, deps);
      serviceRoutes(typedApi, deps);
      hostRoutes(typedApi, deps);
      artifactRoutes(typedApi, deps);
      releaseRoutes(typedApi, deps);
      auditRoutes(typedApi, deps);
      agentRoutes(typedApi, deps);
      agentMetricsRoutes(typedApi, deps);
      deploymentRoutes(typedApi, deps);
      statusRoutes(typedApi, deps);
      eventRoutes(typedApi, deps);
      pipelineRoutes(typedApi, deps);
      runnerRoutes(typedApi, deps);
      await api.register(async (hooks) => webhookRoutes(hooks.withTypeProvider<ZodTypeProvider>(), deps));
      typedApi.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: "/api/v1" },
  );
  await app.register(staticRoutes);
  return app;
}
