// The agent protocol (see contracts/agent.ts): register, long-poll for desired state, report.
import { z } from "zod";
import { AgentRegister, AgentRegistered, AgentReport, DesiredQuery, DesiredState, LogBatch } from "../../contracts/agent.ts";
import { HEARTBEAT_INTERVAL_MS } from "../../core/hosts/reachability.ts";
import { appendLogs } from "../../store/host-logs.ts";
import { getDesiredState } from "../../store/host-state.ts";
import { ReportWriter } from "../../store/report-writer.ts";
import { registerHost } from "../../store/hosts.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

const POLL_TIMEOUT_MS = 25_000;
/** Replicas that did not raise the signal are noticed by re-reading this often. */
const POLL_RECHECK_MS = 1_000;

export function agentRoutes(app: TypedApp, { store: { db }, changes, clock }: AppDeps): void {
  const reports = new ReportWriter(db);
  const tags = ["agent"];
  app.post("/agent/register", { schema: { tags, body: AgentRegister, response: { 200: AgentRegistered, ...errorResponses } } }, async (request) => {
    const { actor } = authorize(request, "host:register", clock());
    const { version, roles, ...host } = request.body;
    const registered = await registerHost(db, actor, { ...host, agentVersion: version, roles });
    changes.tenantChanged({ tenantId: actor.tenantId, kind: "host", id: registered.id });
    return { host: registered, heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS, poll_timeout_ms: POLL_TIMEOUT_MS };
  });

  app.get("/agent/desired", { schema: { tags, querystring: DesiredQuery, response: { 200: DesiredState, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "host:register", clock());
    const { host_id: hostId, after, timeout_ms: timeoutMs } = request.query;
    const closed = new AbortController();
    request.raw.once("close", () => closed.abort());
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await getDesiredState(db, auth.tenantId, hostId);
      const remaining = deadline - Date.now();
      if (state.generation > after || remaining <= 0 || closed.signal.aborted) return state;
      await changes.waitForHost(hostId, Math.min(remaining, POLL_RECHECK_MS), closed.signal);
    }
  });

  app.post("/agent/report", { schema: { tags, body: AgentReport, response: { 200: z.object({ generation: z.number().int() }), ...errorResponses } } }, async (request) => {
    const { auth, actor } = authorize(request, "host:register", clock());
    const generation = await reports.record(auth.tenantId, request.body, actor.now);
    changes.tenantChanged({ tenantId: auth.tenantId, kind: "host", id: request.body.host_id });
    return { generation };
  });

  app.post("/agent/logs", { schema: { tags, body: LogBatch, response: { 200: z.object({ accepted: z.number().int() }), ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "host:register", clock());
    return { accepted: await appendLogs(db, auth.tenantId, request.body) };
  });
}
