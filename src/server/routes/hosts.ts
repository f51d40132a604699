// Hosts: registered and kept alive by agents; listed by anyone in the tenant.
import { IdParams } from "../../contracts/common.ts";
import { Host, HostQuery, HostRegister } from "../../contracts/hosts.ts";
import { parseSelector } from "../../core/hosts/selector.ts";
import { getHost, heartbeat, listHosts, registerHost } from "../../store/hosts.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

export function hostRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  const tags = ["hosts"];
  app.post("/hosts", { schema: { tags, body: HostRegister, response: { 200: Host, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "host:register", clock());
    return registerHost(db, actor, request.body);
  });

  app.post("/hosts/:id/heartbeat", { schema: { tags, params: IdParams, response: { 200: Host, ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "host:register", clock());
    return heartbeat(db, auth.tenantId, request.params.id, actor.now);
  });

  app.get("/hosts", { schema: { tags, querystring: HostQuery, response: { 200: listOf(Host), ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "read", clock());
    const selector = request.query.selector ? parseSelector(request.query.selector, "query.selector") : {};
    return { items: await listHosts(db, auth.tenantId, actor.now, selector) };
  });

  app.get("/hosts/:id", { schema: { tags, params: IdParams, response: { 200: Host, ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "read", clock());
    return getHost(db, auth.tenantId, request.params.id, actor.now);
  });
}
