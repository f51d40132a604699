// The agents' metrics (see contracts/agent.ts): what each agent scraped from its services'
// run.metrics endpoints, stored for the canary judge (store/metrics.ts).
import { z } from "zod";
import { MetricsBatch } from "../../contracts/agent.ts";
import { recordScrapes } from "../../store/metrics.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

/** A batch may hold many scrapes of up to 1,000 series each; agents send at most about 1 MiB at a time. */
const BODY_LIMIT = 8 * 1024 * 1024;

export function agentMetricsRoutes(app: TypedApp, { store: { db }, clock }: AppDeps): void {
  app.post("/agent/metrics", { bodyLimit: BODY_LIMIT, schema: { tags: ["agent"], body: MetricsBatch, response: { 200: z.object({ accepted: z.number().int() }), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "host:register", clock());
    return { accepted: await recordScrapes(db, auth.tenantId, request.body) };
  });
}
