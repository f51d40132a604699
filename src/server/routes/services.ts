// Services: create, list, show, update (quoting the revision).
import { Service, ServiceCreate, ServiceParams, ServiceUpdate } from "../../contracts/services.ts";
import { createService, getService, listServices, updateService } from "../../store/services.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

export function serviceRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  const tags = ["services"];
  app.get("/services", { schema: { tags, response: { 200: listOf(Service), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return { items: await listServices(db, auth.tenantId) };
  });

  app.post("/services", { schema: { tags, body: ServiceCreate, response: { 201: Service, ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "service:write", clock());
    return reply.status(201).send(await createService(db, actor, request.body));
  });

  app.get("/services/:service", { schema: { tags, params: ServiceParams, response: { 200: Service, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return getService(db, auth.tenantId, request.params.service);
  });

  app.patch("/services/:service", { schema: { tags, params: ServiceParams, body: ServiceUpdate, response: { 200: Service, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "service:write", clock());
    return updateService(db, actor, request.params.service, request.body);
  });
}
