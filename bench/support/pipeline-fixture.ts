// What bench/pipeline.ts measures against: a real `slipway server` process on a fresh store, a
// local git repository registered as a service, and real `slipway agent --runner-only` processes
// whose debug logs (the runner's "command exited" and "job timings" records, see
// src/agent/runner/timings.ts) are collected as they come.
//
// The repository holds two commits on main, one slipway.yaml each, so that a run's pipeline is
// chosen by the sha it is started on: `steps` (one job of K trivial steps, for the per-step
// overhead) and `three` (one job of three trivial steps, for the throughput).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openStore, type Store } from "../../src/store/connection.ts";
import { apiClient, type Api } from "../../test/support/api.ts";
import { commit, createRepo } from "../../test/support/git.ts";
import { spawnJsonLineProcess, startServerProcess, type ChildHandle, type ServerProcess } from "../../test/support/process.ts";
import { createBenchStore, type BenchStore } from "./store.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
export const SERVICE = "bench";

/** One debug record of a runner agent (pino JSON), as much of it as the bench reads. */
export interface RunnerRecord {
  msg: string;
  job_id?: string;
  step?: number;
  exit_code?: number | null;
  started_at?: number | null;
  exited_at?: number | null;
  phases_ms?: Record<string, number>;
}

export interface PipelineFixture {
  dialect: "sqlite" | "postgres";
  server: ServerProcess;
  api: Api;
  /** A second connection to the server's store, for reading runs without loading the API. */
  store: Store;
  /** The sha whose pipeline is one job of `steps` trivial steps. */
  stepsSha: string;
  /** The sha whose pipeline is one job of three trivial steps. */
  threeSha: string;
  runners: ChildHandle<{ host_id: string }>[];
  /** Every record the runners logged, in arrival order (cleared by the caller between phases). */
  records: RunnerRecord[];
  stop(): Promise<void>;
}

export interface FixtureOptions {
  dialect: "sqlite" | "postgres";
  postgresUrl: string | undefined;
  runners: number;
  slots: number;
  /** Steps of the per-step overhead job. */
  steps: number;
  /** The trivial command of every step. */
  command: string;
  logLevel: string;
  /** Extra node flags for the server and the agents (e.g. --cpu-prof). */
  nodeFlags?: string[];
  log: (message: string) => void;
}

const pipelineYaml = (steps: number, command: string) =>
  [
    "on: { push: false }",
    "jobs:",
    "  build:",
    "    steps:",
    ...Array.from({ length: steps }, (_, i) => `      - { name: step-${i + 1}, run: ${JSON.stringify(command)} }`),
    "",
  ].join("\n");

export async function startPipelineFixture(options: FixtureOptions): Promise<PipelineFixture> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => options.log(`cleanup: ${(error as Error).message}`));
  };
  try {
    const root = await mkdtemp(join(tmpdir(), "slipway-bench-pipeline-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const repo = await createRepo(join(root, "repo"));
    await commit(repo, { "README.md": "a service for bench/pipeline.ts\n" }, "the service");
    const stepsSha = await commit(repo, { "slipway.yaml": pipelineYaml(options.steps, options.command) }, `a job of ${options.steps} steps`);
    const threeSha = await commit(repo, { "slipway.yaml": pipelineYaml(3, options.command) }, "a job of three steps");

    const benchStore: BenchStore = await createBenchStore(options.dialect, options.postgresUrl);
    cleanups.push(() => benchStore.drop());
    const env = { ...process.env, ...(options.nodeFlags ? { NODE_OPTIONS: options.nodeFlags.join(" ") } : {}) };
    const server = await startServerProcess({ dataDir: benchStore.dataDir, databaseUrl: benchStore.databaseUrl, logLevel: options.logLevel, env });
    cleanups.push(() => server.kill("SIGTERM"));
    if (!server.adminToken) throw new Error("a fresh store should print an admin token");
    const api = apiClient(server.url, server.adminToken);
    const store = openStore({ dataDir: benchStore.dataDir, databaseUrl: benchStore.databaseUrl, poolSize: 2 });
    cleanups.push(() => store.close());

    const created = await api("POST", "/api/v1/services", { body: { name: SERVICE, repository_url: repo } });
    if (created.status !== 201) throw new Error(`creating the service: ${created.status} ${JSON.stringify(created.body)}`);
    const agentToken = await api("POST", "/api/v1/tokens", { body: { name: "bench runners", kind: "agent" } });
    if (agentToken.status !== 201) throw new Error(`creating the agent token: ${JSON.stringify(agentToken.body)}`);

    const records: RunnerRecord[] = [];
    const runners: ChildHandle<{ host_id: string }>[] = [];
    for (let i = 1; i <= options.runners; i++) {
      const agentEnv = { ...Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith("SLIPWAY_"))), SLIPWAY_TOKEN: agentToken.body.token as string };
      const args = [CLI, "agent", "--server", server.url, "--name", `runner-${i}`, "--labels", "os=linux", "--data-dir", join(root, `runner-${i}`), "--runner-only", "--runner-slots", String(options.slots), "--json", "--log-level", "debug"];
      const runner = await spawnJsonLineProcess<{ host_id: string }>(args, { env: agentEnv, what: `runner-${i}` });
      cleanups.push(() => runner.kill("SIGTERM"));
      createInterface({ input: runner.child.stderr! }).on("line", (line) => {
        if (!line.startsWith("{")) return;
        const record = JSON.parse(line) as RunnerRecord & { level: number };
        if (record.msg === "command exited" || record.msg === "job timings") records.push(record);
        else if (record.level >= 40) options.log(`runner-${i}: ${line}`);
      });
      runners.push(runner);
    }
    return { dialect: options.dialect, server, api, store, stepsSha, threeSha, runners, records, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
