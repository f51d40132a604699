// A real HTTP server speaking the runner protocol (contracts/runner.ts) and the few agent routes
// a runner-only agent uses, for testing the runner without the Slipway server: it hands out the
// jobs a test queues, records what the runner reports (every body parsed by its contract schema,
// so a runner sending something the server would refuse fails the test), stores uploaded
// artifacts by sha256, and can be told to cancel a job or to fail log requests for a while.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AgentRegister } from "../../src/contracts/agent.ts";
import { JobFinish, JobLogs, JobStatus, RunnerClaim, type RunnerJob } from "../../src/contracts/runner.ts";
import { waitFor } from "./wait.ts";

export type LogLineSent = JobLogs["lines"][number];

export interface FakeRunnerServer {
  url: string;
  token: string;
  /** Hands `job` to the next claim. */
  queue(job: RunnerJob): void;
  /** Answers the job's next status and log requests with `cancel: true`. */
  cancel(jobId: string): void;
  /** The next `count` log requests fail with `status` (the lines are not recorded). */
  failLogs(count: number, status?: number): void;
  registrations: AgentRegister[];
  claims: number;
  statuses: Map<string, JobStatus[]>;
  /** Every log line accepted, per job, in the order received. */
  lines: Map<string, LogLineSent[]>;
  logRequests: { accepted: number; failed: number };
  finished: Map<string, JobFinish>;
  artifacts: Map<string, Buffer>;
  waitForFinish(jobId: string, timeoutMs?: number): Promise<JobFinish>;
  close(): Promise<void>;
}

/** A job with every field filled in; override what the test is about. */
export function runnerJob(overrides: Partial<RunnerJob> & Pick<RunnerJob, "id" | "repository_url" | "sha">): RunnerJob {
  return {
    run_id: "run-1",
    run_number: 7,
    attempt: 1,
    service: "shop",
    job: "build",
    shard: null,
    branch: "main",
    env: {},
    secrets: [],
    steps: [],
    tests: null,
    package: null,
    artifacts: [],
    inputs: [],
    timeout_ms: 60_000,
    heartbeat_interval_ms: 1000,
    ...overrides,
  };
}

export async function startFakeRunnerServer(options: { token?: string } = {}): Promise<FakeRunnerServer> {
  const token = options.token ?? "runner-token";
  const jobs: RunnerJob[] = [];
  const waitingClaims: (() => void)[] = [];
  const cancelled = new Set<string>();
  let logFailures = { count: 0, status: 503 };
  const state: Omit<FakeRunnerServer, "url" | "token" | "queue" | "cancel" | "failLogs" | "waitForFinish" | "close"> = {
    registrations: [],
    claims: 0,
    statuses: new Map(),
    lines: new Map(),
    logRequests: { accepted: 0, failed: 0 },
    finished: new Map(),
    artifacts: new Map(),
  };

  const ack = (jobId: string) => ({ cancel: cancelled.has(jobId) });
  const append = <T>(map: Map<string, T[]>, key: string, ...values: T[]) => map.set(key, [...(map.get(key) ?? []), ...values]);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: { code: "unauthenticated", message: "bad token", details: [] } });
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const artifact = /^\/api\/v1\/artifacts\/([0-9a-f]{64})$/.exec(path);
    if (artifact && (req.method === "GET" || req.method === "HEAD")) {
      const bytes = state.artifacts.get(artifact[1] ?? "");
      if (!bytes) return send(res, 404, { error: { code: "not_found", message: "no such artifact", details: [] } });
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      return void res.end(req.method === "HEAD" ? undefined : bytes);
    }
    if (req.method === "PUT" && path === "/api/v1/artifacts") {
      const bytes = await body(req);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      if (req.headers["x-slipway-sha256"] !== sha256) return send(res, 400, { error: { code: "invalid_input", message: "sha256 mismatch", details: [] } });
      state.artifacts.set(sha256, bytes);
      return send(res, 201, { sha256, size: bytes.length, created_at: new Date().toISOString() });
    }
    if (req.method !== "POST") return send(res, 404, { error: { code: "not_found", message: `no route ${req.method} ${path}`, details: [] } });
    const json: unknown = JSON.parse((await body(req)).toString("utf8") || "{}");
    if (path === "/api/v1/agent/register") {
      const registration = AgentRegister.parse(json);
      state.registrations.push(registration);
      const now = new Date().toISOString();
      const host = { id: "host-1", name: registration.name, address: registration.address, labels: registration.labels, registered_at: now, last_heartbeat_at: now, reachable: true, agent_version: registration.version, roles: registration.roles };
      return send(res, 200, { host, heartbeat_interval_ms: 60_000, poll_timeout_ms: 1000 });
    }
    if (path === "/api/v1/agent/report" || path === "/api/v1/agent/logs") return send(res, 200, {});
    if (path === "/api/v1/runner/claim") {
      const claim = RunnerClaim.parse(json);
      state.claims += 1;
      if (jobs.length === 0) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, claim.wait_ms);
        waitingClaims.push(() => (clearTimeout(timer), resolve()));
        req.once("close", () => (clearTimeout(timer), resolve()));
      });
      return send(res, 200, { job: jobs.shift() ?? null });
    }
    const jobRoute = /^\/api\/v1\/runner\/jobs\/([^/]+)\/(status|logs|finish)$/.exec(path);
    if (!jobRoute) return send(res, 404, { error: { code: "not_found", message: `no route POST ${path}`, details: [] } });
    const [, jobId = "", action] = jobRoute;
    if (action === "status") append(state.statuses, jobId, JobStatus.parse(json));
    if (action === "finish") state.finished.set(jobId, JobFinish.parse(json));
    if (action === "logs") {
      if (logFailures.count > 0) {
        logFailures.count -= 1;
        state.logRequests.failed += 1;
        return send(res, logFailures.status, { error: { code: "unavailable", message: "try again", details: [] } });
      }
      state.logRequests.accepted += 1;
      append(state.lines, jobId, ...JobLogs.parse(json).lines);
    }
    return send(res, 200, ack(jobId));
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => send(res, 400, { error: { code: "invalid_input", message: (error as Error).message, details: [] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    ...state,
    get claims() {
      return state.claims;
    },
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    queue(job) {
      jobs.push(job);
      waitingClaims.shift()?.();
    },
    cancel(jobId) {
      cancelled.add(jobId);
    },
    failLogs(count, status = 503) {
      logFailures = { count, status };
    },
    waitForFinish: (jobId, timeoutMs = 30_000) => waitFor(() => state.finished.get(jobId), { timeoutMs, what: `job ${jobId} to finish` }),
    close: () =>
      new Promise((resolve) => {
        for (const wake of waitingClaims.splice(0)) wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
}
