// Pipelines on real runners: (a) the overhead the runner adds per step, beside a bare spawn of the
// same command, and (b) runs per minute for a batch of small pipelines on two runner agents.
//
//   npm run bench:pipeline                      SQLite, then PostgreSQL
//   node bench/pipeline.ts --store sqlite|postgres|both
//   SLIPWAY_BENCH_DATABASE_URL=postgres://... (default postgres://postgres@127.0.0.1:5432/postgres)
//   options: --runs 500 (pipelines of (b))  --runners 2 (runner-only agents)  --slots 1 (jobs at once per runner)
//            --steps 20 (steps of the job of (a))  --step-jobs 10 (jobs of (a), one after the other)
//            --spawns 200 (bare spawns)  --trigger-concurrency 4 (run requests in flight)
//            --timeout-min 20  --log-level warn (the server's)
//            --cpu-prof DIR (V8 CPU profiles of the server and the runners, in DIR/<store>/, with
//            windows.json naming which pid is which and when (b) ran ("throughput"); read them with
//            node bench/support/cpu-profile-summary.ts DIR/<store> --window throughput --role server|agents)
//
// Everything is real: a `slipway server` process on a fresh store (SQLite in a temporary folder,
// or a new PostgreSQL database), a local git repository registered as a service, and
// `slipway agent --runner-only` processes. Runs are started by hand through the API, on a given
// commit (POST /api/v1/services/bench/runs {sha}).
//
// (a) Per-step overhead. A job of K steps that each run `true`; the runners log, at debug level,
// when each command's shell was spawned and when its exit was seen (src/agent/runner/timings.ts).
// The overhead is the gap from one step's exit to the next step's spawn: everything the runner
// does between two commands (reading the rest of the output, recording the step, reporting it,
// preparing the next one's environment). It is compared with a bare child_process.spawn of the
// same command through the same shell and flags, spawn() to exit, measured by this process in
// the same run. Jobs of (a) run one at a time, so the gaps are the runner's, not a busy machine's.
//
// (b) Throughput. R pipelines of one job of three `true` steps (one job, not three jobs: the
// issue's "pipelines of three trivial steps"), all started as fast as the API takes them; runs
// per minute from the first request to the last run finished (the store's finished_at). The
// store's timestamps split a run's life into: waiting to be queued (the pipeline controller),
// waiting for a runner (queued -> claimed), the job on the runner (claimed -> finished) and the
// run's end (job finished -> run finished); the runners' own "job timings" split the job.
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SERVICE, startPipelineFixture, type PipelineFixture } from "./support/pipeline-fixture.ts";
import { bareSpawns, cpuMs, phaseQuantiles, quantiles, runTimes, stepGaps, unfinishedCount, type Quantiles, type RunTimes } from "./support/pipeline-figures.ts";

const { values: flags } = parseArgs({
  options: {
    store: { type: "string", default: "both" },
    runs: { type: "string", default: "500" },
    runners: { type: "string", default: "2" },
    slots: { type: "string", default: "1" },
    steps: { type: "string", default: "20" },
    "step-jobs": { type: "string", default: "10" },
    spawns: { type: "string", default: "200" },
    "trigger-concurrency": { type: "string", default: "4" },
    "timeout-min": { type: "string", default: "20" },
    "log-level": { type: "string", default: "warn" },
    "cpu-prof": { type: "string" },
  },
});
const storeChoice = flags.store;
if (!["sqlite", "postgres", "both"].includes(storeChoice)) throw new Error(`--store must be sqlite, postgres or both, not '${storeChoice}'`);
const dialects = storeChoice === "both" ? (["sqlite", "postgres"] as const) : [storeChoice as "sqlite" | "postgres"];
const postgresUrl = process.env.SLIPWAY_BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const RUNS = positive("runs");
const RUNNERS = positive("runners");
const SLOTS = positive("slots");
const STEPS = positive("steps");
const STEP_JOBS = positive("step-jobs");
const SPAWNS = positive("spawns");
const TRIGGER_CONCURRENCY = positive("trigger-concurrency");
const TIMEOUT_MS = Number(flags["timeout-min"]) * 60_000;
const COMMAND = "true";
const AIM = { overheadRatio: 3, runsPerMinute: 270 };

function positive(name: keyof typeof flags): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number above 0`);
  return value;
}

const t0 = performance.now();
const log = (message: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

let current: PipelineFixture | undefined;
const abort = (message: string, code: number) => {
  log(message);
  void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
};
const deadline = setTimeout(() => abort(`ABORTED: the bench did not finish within ${flags["timeout-min"]} min; stopping everything`, 2), TIMEOUT_MS);
process.once("SIGINT", () => abort("interrupted; stopping everything", 130));
process.once("SIGTERM", () => abort("terminated; stopping everything", 143));

async function startRun(fixture: PipelineFixture, sha: string): Promise<string> {
  const response = await fixture.api("POST", `/api/v1/services/${SERVICE}/runs`, { body: { sha } });
  if (response.status !== 201) throw new Error(`starting a run: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

async function waitForRuns(fixture: PipelineFixture, ids: readonly string[], intervalMs: number): Promise<void> {
  const until = Date.now() + TIMEOUT_MS;
  while ((await unfinishedCount(fixture.store, ids)) > 0) {
    if (Date.now() > until) throw new Error(`${ids.length} runs did not finish in time`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function failedRuns(times: readonly RunTimes[]): string[] {
  return times.filter((t) => t.state !== "succeeded").map((t) => `${t.id} ${t.state}`);
}

interface StoreResult {
  dialect: string;
  bare: Quantiles;
  gaps: Quantiles;
  stepCommands: Quantiles;
  runs: number;
  triggerMs: number;
  totalMs: number;
  runsPerMinute: number;
  toQueued: Quantiles;
  toClaimed: Quantiles;
  onRunner: Quantiles;
  toRunFinished: Quantiles;
  phases: Map<string, Quantiles>;
  loadGaps: Quantiles;
  /** CPU seconds during (b): [own, children it ran] of the server and of the runners together. */
  cpu: { server: [number, number]; runners: [number, number] };
}

/** CLOCK_MONOTONIC in µs, the clock of V8's CPU profile samples in every process. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function benchStore(dialect: "sqlite" | "postgres"): Promise<StoreResult> {
  log(`${dialect}: starting a server, ${RUNNERS} runner agent(s) and a repository`);
  const profileDir = flags["cpu-prof"] ? resolve(flags["cpu-prof"], dialect) : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const nodeFlags = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : undefined;
  const fixture = await startPipelineFixture({ dialect, postgresUrl, runners: RUNNERS, slots: SLOTS, steps: STEPS, command: COMMAND, logLevel: flags["log-level"], log, ...(nodeFlags ? { nodeFlags } : {}) });
  current = fixture;
  try {
    // Warm-up, not measured: each runner's first job creates its mirror of the repository.
    log(`${dialect}: warm-up (${RUNNERS * SLOTS * 2} runs)`);
    const warm = await Promise.all(Array.from({ length: RUNNERS * SLOTS * 2 }, () => startRun(fixture, fixture.threeSha)));
    await waitForRuns(fixture, warm, 50);

    // (a) one job at a time, and the bare spawns right before and after.
    log(`${dialect}: (a) ${STEP_JOBS} jobs of ${STEPS} steps, one at a time; ${SPAWNS} bare spawns`);
    const bareEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LANG: process.env.LANG ?? "C" };
    const bare = await bareSpawns(COMMAND, Math.ceil(SPAWNS / 2), bareEnv);
    fixture.records.length = 0;
    const stepRuns: string[] = [];
    for (let i = 0; i < STEP_JOBS; i++) {
      const id = await startRun(fixture, fixture.stepsSha);
      stepRuns.push(id);
      await waitForRuns(fixture, [id], 20);
    }
    bare.push(...(await bareSpawns(COMMAND, Math.floor(SPAWNS / 2), bareEnv)));
    const failedSteps = failedRuns(await runTimes(fixture.store, stepRuns));
    if (failedSteps.length > 0) throw new Error(`runs of (a) did not succeed: ${failedSteps.join(", ")}`);
    const { gaps, commands } = stepGaps(fixture.records);

    // (b) every run requested as fast as the API takes them; the runners start on the first at once.
    log(`${dialect}: (b) ${RUNS} pipelines of one job of three steps on ${RUNNERS} runner(s)`);
    fixture.records.length = 0;
    const pids = { server: fixture.server.child.pid ?? 0, runners: fixture.runners.map((r) => r.child.pid ?? 0) };
    const cpuOf = () => ({ server: cpuMs(pids.server), runners: pids.runners.map(cpuMs).reduce((a, b) => ({ own: a.own + b.own, children: a.children + b.children }), { own: 0, children: 0 }) });
    const cpuBefore = cpuOf();
    const window: [number, number] = [monotonicUs(), 0];
    const started = Date.now();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: TRIGGER_CONCURRENCY }, async () => {
        while (next < RUNS) {
          next++;
          ids.push(await startRun(fixture, fixture.threeSha));
        }
      }),
    );
    const triggerMs = Date.now() - started;
    log(`${dialect}: ${RUNS} runs requested in ${(triggerMs / 1000).toFixed(1)} s; waiting for them to finish`);
    await waitForRuns(fixture, ids, 100);
    window[1] = monotonicUs();
    const cpuAfter = cpuOf();
    if (profileDir) await writeFile(join(profileDir, "windows.json"), JSON.stringify({ server: pids.server, agents: pids.runners, windows: { throughput: window } }, null, 1));
    const times = await runTimes(fixture.store, ids);
    const failed = failedRuns(times);
    if (failed.length > 0) throw new Error(`${failed.length} runs of (b) did not succeed: ${failed.slice(0, 5).join(", ")}`);
    const lastFinished = Math.max(...times.map((t) => t.finished ?? NaN));
    const totalMs = lastFinished - started;
    const diff = (pick: (t: RunTimes) => [number | null, number | null]) => quantiles(times.map(pick).map(([a, b]) => (a === null || b === null ? NaN : b - a)));
    return {
      dialect,
      bare: quantiles(bare),
      gaps: quantiles(gaps),
      stepCommands: quantiles(commands),
      runs: RUNS,
      triggerMs,
      totalMs,
      runsPerMinute: (RUNS / totalMs) * 60_000,
      toQueued: diff((t) => [t.created, t.jobQueued]),
      toClaimed: diff((t) => [t.jobQueued, t.jobClaimed]),
      onRunner: diff((t) => [t.jobClaimed, t.jobFinished]),
      toRunFinished: diff((t) => [t.jobFinished, t.finished]),
      phases: phaseQuantiles(fixture.records),
      loadGaps: quantiles(stepGaps(fixture.records).gaps),
      cpu: {
        server: [(cpuAfter.server.own - cpuBefore.server.own) / 1000, (cpuAfter.server.children - cpuBefore.server.children) / 1000],
        runners: [(cpuAfter.runners.own - cpuBefore.runners.own) / 1000, (cpuAfter.runners.children - cpuBefore.runners.children) / 1000],
      },
    };
  } finally {
    log(`${dialect}: stopping`);
    await fixture.stop();
    current = undefined;
  }
}

const ms = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "-");
const row = (cells: string[], widths: number[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("");
const qRow = (name: string, q: Quantiles, digits = 2) => row([name, ms(q.p50, digits), ms(q.p90, digits), ms(q.p99, digits), ms(q.mean, digits), String(q.count)], [40, 10, 10, 10, 10, 8]);
const qHeader = () => row(["", "p50 ms", "p90 ms", "p99 ms", "mean ms", "n"], [40, 10, 10, 10, 10, 8]);

const results: StoreResult[] = [];
try {
  for (const dialect of dialects) results.push(await benchStore(dialect));
} catch (error) {
  clearTimeout(deadline);
  log(`FAILED: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
}
clearTimeout(deadline);

console.log(`\nbench/pipeline.ts: ${RUNNERS} runner-only agent(s) with ${SLOTS} slot(s) each; step command \`${COMMAND}\`; ${process.version}`);
for (const r of results) {
  console.log(`\n=== ${r.dialect} ===`);
  console.log(`\n(a) per-step overhead: ${STEP_JOBS} jobs of ${STEPS} steps, one job at a time; from a step's exit to the next step's spawn, as the runner saw them`);
  console.log(qHeader());
  console.log(qRow("runner: exit -> next spawn", r.gaps));
  console.log(qRow("bare spawn() -> exit (this process)", r.bare));
  console.log(qRow("runner: a step's spawn -> exit", r.stepCommands));
  console.log(`overhead / bare spawn (p50): ${ms(r.gaps.p50 / r.bare.p50)}x   aim: under ${AIM.overheadRatio}x`);
  console.log(`\n(b) throughput: ${r.runs} pipelines of one job of three steps; requested in ${ms(r.triggerMs / 1000, 1)} s, all finished ${ms(r.totalMs / 1000, 1)} s after the first request`);
  // What the same work costs with no orchestration at all: each run's three commands spawned bare, one runner's worth at a time.
  const floor = (RUNNERS * SLOTS * 60_000) / (3 * r.bare.p50);
  console.log(`runs per minute: ${ms(r.runsPerMinute, 0)}   aim: well over ${AIM.runsPerMinute}   (the commands alone: ${ms(floor, 0)}, from 3 bare spawns per run, ${RUNNERS * SLOTS} at a time)`);
  console.log(qHeader());
  console.log(qRow("run created -> job queued", r.toQueued, 0));
  console.log(qRow("job queued -> claimed by a runner", r.toClaimed, 0));
  console.log(qRow("job claimed -> finished (store)", r.onRunner, 0));
  console.log(qRow("job finished -> run finished", r.toRunFinished, 0));
  console.log("on the runner (its \"job timings\"):");
  for (const [phase, q] of r.phases) console.log(qRow(`  ${phase}`, q));
  console.log(qRow("  exit -> next spawn, under load", r.loadGaps));
  const secs = (pair: [number, number]) => `${ms(pair[0], 1)} s itself + ${ms(pair[1], 1)} s in the processes it ran`;
  console.log(`CPU during (b): server ${secs(r.cpu.server)}; runners ${secs(r.cpu.runners)} (a machine of ${availableParallelism()} CPUs)`);
}
