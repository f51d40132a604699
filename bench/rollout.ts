// Rolling deployment of a ~20 MB artifact to 100 real agents (4 batches of 25%, HTTP health check
// on each host), beside its floor measured in the same run: the same bytes fetched from a plain
// HTTP server, sha256-checked and unpacked by plain processes with no orchestration, 4 batches of
// 25 in parallel, each starting the same service and waiting for its first healthy /healthz.
// Then the environment rollback (POST .../environments/production/rollback) until every host
// serves the previous release again, beside its own floor (every service of the floor stopped and
// started again at once, no orchestration), and the resident memory of the agents and the server.
//
//   npm run bench:rollout                        100 hosts, SQLite
//   node bench/rollout.ts --hosts 12             a small fleet while developing
//   node bench/rollout.ts --store postgres       on a fresh database next to SLIPWAY_BENCH_DATABASE_URL
//                                                (default postgres://postgres@127.0.0.1:5432/postgres)
//   options: --artifact-mb 20  --timeout-min 10 (the whole run; it aborts past it)
//            --start-concurrency 8 (agents starting at once)  --log-level warn (the server's)
//            --start-interval 100 (ms, run.health.start_interval in the slipway.yaml: how often a new
//            process is probed until first healthy; the floor probes as often, until healthy)
//            --health-interval 2000 (ms, run.health.interval: the probes of healthy processes,
//            which the floor does not have; Slipway's default)
//            --host-nice 10 (niceness of the hosts' processes, agents and floor alike: one machine
//            plays the server's and all the hosts' parts, and the server must not starve behind
//            a hundred hosts' work; with 0, a 100-host deployment here pauses on "unreachable"
//            hosts whose reports wait seconds in the starved server's queue)
//            --cpu-prof DIR (V8 CPU profiles of the server, the agents and their services, written
//            into DIR when they exit, with DIR/windows.json naming which pid is which and when
//            each timed phase ran; read them with bench/support/cpu-profile-summary.ts. For
//            finding where the time goes, not for the figures: profiling slows every process)
//
// Order: preflight (127.0.0.2… bind on one port) -> build v1 and v2 -> the floor (before any agent
// runs, so it shares the machine with nothing of Slipway's) -> server, agents -> deploy v1 (not
// timed: warms every host) -> deploy v2 (timed: POST to state succeeded, polled every 50 ms) ->
// roll back (timed: POST to every host answering GET / with v1) -> memory -> stop everything.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, setPriority, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { batchSizeFor } from "../src/core/rollout/plan.ts";
import { apiClient, type Api } from "../test/support/api.ts";
import { FIXTURE_SERVICE_DIR, buildArtifact, type BuiltArtifact } from "../test/support/artifact.ts";
import { Fleet } from "../test/support/fleet.ts";
import { startServerProcess, type ServerProcess } from "../test/support/process.ts";
import { breakdown, followDeployment, waitUntilServed, type RolloutBreakdown } from "./support/deployment.ts";
import { runFloor, type FloorResult } from "./support/floor.ts";
import { freePortOnAll, loopbackAddresses, startAgents, versionsServed } from "./support/hosts.ts";
import { cpuMsOf, groupsCpuMs, groupsMemory, memoryOf, memorySpread, spread, type MemorySpread, type Spread } from "./support/proc.ts";
import { scrape, windowFigures, type WindowFigures } from "./support/metrics.ts";
import { createBenchStore, type BenchStore } from "./support/store.ts";

const { values: flags } = parseArgs({
  options: {
    hosts: { type: "string", default: "100" },
    store: { type: "string", default: "sqlite" },
    "artifact-mb": { type: "string", default: "20" },
    "timeout-min": { type: "string", default: "10" },
    "start-concurrency": { type: "string", default: "8" },
    "log-level": { type: "string", default: "warn" },
    "cpu-prof": { type: "string" },
    "health-interval": { type: "string", default: "2000" },
    "start-interval": { type: "string", default: "100" },
    "host-nice": { type: "string", default: "10" },
  },
});
const HOSTS = Number(flags.hosts);
const HOST_NICE = Number(flags["host-nice"]);
const ARTIFACT_BYTES = Math.round(Number(flags["artifact-mb"]) * 1e6);
const TIMEOUT_MS = Number(flags["timeout-min"]) * 60_000;
const dialect = flags.store;
if (dialect !== "sqlite" && dialect !== "postgres") throw new Error(`--store must be sqlite or postgres, not '${dialect}'`);
if (!Number.isInteger(HOSTS) || HOSTS < 1 || HOSTS > 253) throw new Error("--hosts must be 1..253");
const postgresUrl = process.env.SLIPWAY_BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

const SERVICE = "shop";
const START = "node server.js";
const HEALTH = { path: "/healthz", intervalMs: Number(flags["health-interval"]), startIntervalMs: Number(flags["start-interval"]), timeoutMs: 1000 };
const POLL_MS = 50;
/** How long the warmed fleet is left alone to measure what it costs doing nothing. */
const IDLE_MS = 5000;
const AIM = { ratio: 1.5, rollbackMs: 5000 };

const t0 = performance.now();
const log = (message: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

// Everything started is stopped on the way out, whatever the way out is.
const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
  })());
let aborting = false;
const abort = (message: string, code: number) => {
  aborting = true;
  log(message);
  void cleanup().finally(() => process.exit(code));
};
const deadline = setTimeout(() => abort(`ABORTED: the bench did not finish within ${flags["timeout-min"]} min; stopping everything`, 2), TIMEOUT_MS);
process.once("SIGINT", () => abort("interrupted; stopping everything", 130));
process.once("SIGTERM", () => abort("terminated; stopping everything", 143));

const manifest = (port: number) => `
run:
  start: ${START}
  port: ${port}
  health: { http: ${HEALTH.path}, interval: ${HEALTH.intervalMs}ms, start_interval: ${HEALTH.startIntervalMs}ms, timeout: ${HEALTH.timeoutMs}ms, start_period: 30s }
deploy:
  batch_size: 25%
  max_unavailable: 25%
  health_timeout: 120s
`;

async function build(version: string, port: number): Promise<BuiltArtifact> {
  // Random bytes, base64 so that buildArtifact (text files) can take them: gzip gets them back
  // to about their raw size and no smaller, so the .tar.gz is ~ARTIFACT_BYTES on the wire.
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, manifest(port), { VERSION: version, "payload.b64": randomBytes(ARTIFACT_BYTES).toString("base64") });
  cleanups.push(() => rm(dirname(artifact.path), { recursive: true, force: true }));
  return artifact;
}

async function expectStatus(response: Promise<{ status: number; body: any }>, status: number, what: string): Promise<any> {
  const answer = await response;
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function deploy(api: Api, serverUrl: string, serverPid: number, version: string): Promise<{ ms: number; postedAt: number; deployment: any; polls: number; server: WindowFigures }> {
  const before = await scrape(serverUrl);
  const serverCpu0 = cpuMsOf(serverPid);
  const started = performance.now();
  const postedAt = Date.now();
  const created = await expectStatus(api("POST", `/api/v1/services/${SERVICE}/deployments`, { body: { version, environment: "production" } }), 201, `deploy ${version}`);
  const { deployment, at, polls } = await followDeployment(api, created.id, { intervalMs: POLL_MS, timeoutMs: TIMEOUT_MS });
  const server = windowFigures(before, await scrape(serverUrl));
  if (deployment.state !== "succeeded") {
    const hosts = (await api("GET", "/api/v1/hosts")).body.items as { name: string; reachable: boolean; last_heartbeat_at: string }[];
    const unreachable = hosts.filter((h) => !h.reachable).map((h) => `${h.name} (last heartbeat ${((Date.now() - Date.parse(h.last_heartbeat_at)) / 1000).toFixed(1)} s ago)`);
    throw new Error(
      `deployment of ${version} ended ${deployment.state}: ${deployment.reason}\n` +
        `unreachable now: ${unreachable.join(", ") || "none"}\n` +
        `server during the deployment: ${((cpuMsOf(serverPid) - serverCpu0) / (performance.now() - started)).toFixed(2)} CPUs busy; event-loop delay p50 ${server.loopDelay.p50.toFixed(0)} ms, p99 ${server.loopDelay.p99.toFixed(0)} ms, max ${server.loopDelay.max.toFixed(0)} ms; ` +
        server.routes.map((r) => `${r.route} ${r.requests}x ${r.meanMs.toFixed(0)} ms`).join(", ") +
        `\nevents:\n${(deployment.events as { at: string; reason: string }[]).map((e) => `  ${e.at} ${e.reason}`).join("\n")}`,
    );
  }
  return { ms: at - started, postedAt, deployment, polls, server };
}

/** CLOCK_MONOTONIC in µs, the clock of V8's CPU profile samples in every process. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const windows: Record<string, [number, number]> = {};

/** What a host costs in memory at its peak (agent + service, anonymous memory), with a margin: checked before starting, so a shared machine is not driven out of memory. */
const MB_PER_HOST = 170;
const availableMemoryMb = () => Math.floor(Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024);

const sumCpu = (pids: number[]) => pids.reduce((total, pid) => total + cpuMsOf(pid), 0);

interface Figures {
  artifact: BuiltArtifact;
  batchSize: number;
  floor: FloorResult;
  idle: { ms: number; serverCpuMs: number; agentsCpuMs: number; servicesCpuMs: number };
  loadBefore: number[];
  rollout: { ms: number; breakdown: RolloutBreakdown; polls: number; serverCpuMs: number; agentsCpuMs: number; newServicesCpuMs: number; server: WindowFigures };
  rollback: { servedMs: number; servedSpread: Spread; succeededMs: number; serverCpuMs: number; agentsCpuMs: number; server: WindowFigures };
  warm: { ms: number; server: WindowFigures };
  memory: { agentsRegistered: MemorySpread; agents: MemorySpread; services: MemorySpread; server: MemorySpread };
}

async function run(): Promise<Figures> {
  const available = availableMemoryMb();
  if (available < HOSTS * MB_PER_HOST) throw new Error(`${HOSTS} hosts need about ${HOSTS * MB_PER_HOST} MB (an agent and its service, ~${MB_PER_HOST} MB a host) and this machine has ${available} MB available: use fewer --hosts`);
  const addresses = loopbackAddresses(HOSTS, 2);
  const port = await freePortOnAll(addresses);
  log(`${addresses[0]}…${addresses.at(-1)} bind on port ${port}`);
  const [v1, v2] = [await build("1.0.0", port), await build("2.0.0", port)];
  log(`artifacts built: ${(v2.size / 1e6).toFixed(1)} MB .tar.gz each`);
  const batchSize = batchSizeFor({ strategy: "rolling", batch_size: "25%", max_unavailable: "25%" }, HOSTS);
  const batches = Array.from({ length: Math.ceil(HOSTS / batchSize) }, (_, b) => addresses.slice(b * batchSize, (b + 1) * batchSize));

  log(`floor: ${HOSTS} plain processes in ${batches.length} batches of ${batchSize}`);
  const floor = await runFloor({ artifact: v2, batches, port, start: START, healthPath: HEALTH.path, intervalMs: HEALTH.startIntervalMs, timeoutMs: HEALTH.timeoutMs, nice: HOST_NICE, log, onStop: (stop) => cleanups.push(stop) });
  log(`floor: ${(floor.totalMs / 1000).toFixed(2)} s`);

  const store: BenchStore = await createBenchStore(dialect as "sqlite" | "postgres", dialect === "postgres" ? postgresUrl : undefined);
  cleanups.push(() => store.drop());
  const profiling = flags["cpu-prof"] ? `--cpu-prof --cpu-prof-dir=${resolve(flags["cpu-prof"])}` : undefined;
  const server: ServerProcess = await startServerProcess({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, logLevel: flags["log-level"], ...(profiling ? { env: { ...process.env, NODE_OPTIONS: profiling } } : {}) });
  cleanups.push(() => server.kill("SIGTERM"));
  const serverPid = server.child.pid!;
  const api = apiClient(server.url, server.adminToken ?? undefined);
  log(`server on ${server.url} (${dialect})`);
  const agentToken = (await expectStatus(api("POST", "/api/v1/tokens", { body: { name: "bench fleet", kind: "agent" } }), 201, "agent token")).token as string;
  await expectStatus(api("POST", "/api/v1/services", { body: { name: SERVICE, repository_url: "https://git.example.com/shop.git", environments: [{ name: "production", selector: { role: "web" } }] } }), 201, "service");
  for (const [version, artifact] of [["1.0.0", v1], ["2.0.0", v2]] as const) {
    await expectStatus(api("PUT", "/api/v1/artifacts", { body: artifact.bytes }), 201, `upload ${version}`);
    await expectStatus(api("POST", `/api/v1/services/${SERVICE}/releases`, { body: { version, artifact_sha256: artifact.sha256 } }), 201, `release ${version}`);
  }

  const fleetRoot = await mkdtemp(join(tmpdir(), "slipway-bench-fleet-"));
  const fleet = new Fleet(server.url, agentToken);
  cleanups.push(() => rm(fleetRoot, { recursive: true, force: true }));
  cleanups.push(() => fleet.stop());
  log(`starting ${HOSTS} agents, ${flags["start-concurrency"]} at a time`);
  // The fleet helper hands this process's environment to the agents (and they to their services).
  const nodeOptions = process.env.NODE_OPTIONS;
  if (profiling) process.env.NODE_OPTIONS = profiling;
  await startAgents(fleet, { root: fleetRoot, prefix: "web", addresses, labels: { role: "web" }, concurrency: Number(flags["start-concurrency"]), log }).finally(() => {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  });
  const agentPids = fleet.hosts.map((h) => h.agent!.child.pid!);
  // The hosts share this machine's CPUs with the server, which in production has a machine of its
  // own: hosts yield to it (the services the agents start inherit the niceness), as the floor's
  // processes yield to its file server.
  if (HOST_NICE !== 0) for (const pid of agentPids) setPriority(pid, HOST_NICE);
  const agentsRegistered = memorySpread(agentPids.map(memoryOf));

  log("deploying 1.0.0 (not timed: warms every host)");
  const warm = await deploy(api, server.url, serverPid, "1.0.0");
  log(`  1.0.0 live in ${(warm.ms / 1000).toFixed(2)} s`);
  // Each service runs in its own process group, led by the pid the agent recorded.
  const serviceGroupsNow = async () => new Set(await Promise.all(fleet.hosts.map(async (h) => (JSON.parse(await readFile(join(h.dataDir, "services", SERVICE, "shared", "process.json"), "utf8")) as { pid: number }).pid)));
  const serviceGroups = await serviceGroupsNow();
  const idleStart = [performance.now(), cpuMsOf(serverPid), sumCpu(agentPids), groupsCpuMs(serviceGroups)] as const;
  windows.idle = [monotonicUs(), 0];
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  windows.idle[1] = monotonicUs();
  const idle = { serverCpuMs: cpuMsOf(serverPid) - idleStart[1], agentsCpuMs: sumCpu(agentPids) - idleStart[2], servicesCpuMs: groupsCpuMs(serviceGroups) - idleStart[3], ms: performance.now() - idleStart[0] };
  log(`  idle ${(idle.ms / 1000).toFixed(1)} s: CPU server ${(idle.serverCpuMs / 1000).toFixed(2)} s, agents ${(idle.agentsCpuMs / 1000).toFixed(2)} s, services ${(idle.servicesCpuMs / 1000).toFixed(2)} s`);

  const loadBefore = loadavg();
  log("deploying 2.0.0 (timed)");
  const [serverCpu0, agentsCpu0] = [cpuMsOf(serverPid), sumCpu(agentPids)];
  windows.deploy = [monotonicUs(), 0];
  const rollout = await deploy(api, server.url, serverPid, "2.0.0");
  windows.deploy[1] = monotonicUs();
  const [serverCpu1, agentsCpu1] = [cpuMsOf(serverPid), sumCpu(agentPids)];
  // The 2.0.0 processes all started during the deployment (the 1.0.0 ones it stopped are gone, and their CPU with them).
  const newServicesCpu = groupsCpuMs(await serviceGroupsNow());
  log(`  2.0.0 live in ${(rollout.ms / 1000).toFixed(2)} s`);
  const onV2 = await versionsServed(addresses, port);
  if (onV2.some((v) => v !== "2.0.0")) throw new Error(`after the deployment, hosts serve ${JSON.stringify(onV2)}`);
  const rolloutBreakdown = await breakdown(rollout.deployment, rollout.postedAt, fleet.hosts, SERVICE);

  log("rolling back to 1.0.0 (timed)");
  const beforeRollback = await scrape(server.url);
  const rollbackStart = performance.now();
  windows.rollback = [monotonicUs(), 0];
  const created = await expectStatus(api("POST", `/api/v1/services/${SERVICE}/environments/production/rollback`), 201, "rollback");
  const [served, followed] = await Promise.all([
    waitUntilServed(addresses, port, "1.0.0", { intervalMs: POLL_MS, timeoutMs: 120_000 }),
    followDeployment(api, created.id, { intervalMs: POLL_MS, timeoutMs: 120_000 }),
  ]);
  windows.rollback[1] = monotonicUs();
  const rollbackServer = windowFigures(beforeRollback, await scrape(server.url));
  const [serverCpu2, agentsCpu2] = [cpuMsOf(serverPid), sumCpu(agentPids)];
  if (flags["cpu-prof"]) await writeFile(join(flags["cpu-prof"], "windows.json"), JSON.stringify({ server: serverPid, agents: agentPids, windows }, null, 1));
  if (followed.deployment.state !== "succeeded") throw new Error(`rollback ended ${followed.deployment.state}: ${followed.deployment.reason}`);
  const servedTimes = [...served.values()].map((at) => at - rollbackStart);
  log(`  every host serves 1.0.0 after ${(Math.max(...servedTimes) / 1000).toFixed(2)} s`);

  const memory = { agentsRegistered, agents: memorySpread(agentPids.map(memoryOf)), services: memorySpread(groupsMemory(await serviceGroupsNow())), server: memorySpread([memoryOf(serverPid)]) };
  return {
    artifact: v2,
    batchSize,
    idle,
    loadBefore,
    floor,
    rollout: { ms: rollout.ms, breakdown: rolloutBreakdown, polls: rollout.polls, serverCpuMs: serverCpu1 - serverCpu0, agentsCpuMs: agentsCpu1 - agentsCpu0, newServicesCpuMs: newServicesCpu, server: rollout.server },
    warm: { ms: warm.ms, server: warm.server },
    rollback: { servedMs: Math.max(...servedTimes), servedSpread: spread(servedTimes), succeededMs: followed.at - rollbackStart, serverCpuMs: serverCpu2 - serverCpu1, agentsCpuMs: agentsCpu2 - agentsCpu1, server: rollbackServer },
    memory,
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : "-");
const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : c.padStart(widths[i]!))).join("");
const phaseRow = (name: string, p: Spread) => line([name, f0(p.min), f0(p.median), f0(p.max)], [62, 8, 8, 8]);

function print(fig: Figures): void {
  const ratio = fig.rollout.ms / fig.floor.totalMs;
  const b = fig.rollout.breakdown;
  const out = (text = "") => console.log(text);
  out(`\nRolling deployment of a ${(fig.artifact.size / 1e6).toFixed(1)} MB artifact (${fig.artifact.size} bytes) to ${HOSTS} real agents, ${b.batches.length} batches of ${fig.batchSize},`);
  out(`HTTP health check every ${HEALTH.startIntervalMs} ms until healthy, then every ${HEALTH.intervalMs} ms; store ${dialect}; ${process.version}; ${availableParallelism()} CPUs;`);
  out(`hosts (agents and their services; the floor's processes and their services) run at nice ${HOST_NICE}, the server and the floor's file server at 0;`);
  out(`load average before the timed deployment ${fig.loadBefore.map((l) => l.toFixed(1)).join(" / ")} (1/5/15 min; the machine may be shared)\n`);
  const w = [44, 12, 22];
  out(line(["", "time", "aim"], w));
  out(line(["floor (plain processes, same batches)", s(fig.floor.totalMs), ""], w));
  out(line(["slipway rolling deployment (POST -> succeeded)", s(fig.rollout.ms), ""], w));
  out(line(["ratio slipway / floor", `${ratio.toFixed(2)}x`, `<= ${AIM.ratio}x  ${ratio <= AIM.ratio ? "met" : "NOT MET"}`], w));
  out(line([`rollback: every host serves 1.0.0 again`, s(fig.rollback.servedMs), `< ${AIM.rollbackMs / 1000} s  ${fig.rollback.servedMs < AIM.rollbackMs ? "met" : "NOT MET"}`], w));
  out(line([`rollback floor: every service restarted at once`, s(fig.floor.restartMs), `slipway / floor ${(fig.rollback.servedMs / fig.floor.restartMs).toFixed(2)}x`], w));
  out(line(["rollback: deployment recorded succeeded", s(fig.rollback.succeededMs), ""], w));

  out("\nper batch (s)                          " + b.batches.map((_, i) => `   #${i + 1}`).join(""));
  out("floor: batch wall time                 " + fig.floor.batchMs.map((v) => (v / 1000).toFixed(2).padStart(6)).join(""));
  out("slipway: batch start -> last healthy   " + b.batches.map((x) => (x.ms / 1000).toFixed(2).padStart(6)).join(""));
  out("slipway: gap before the batch started  " + b.batches.map((x) => (x.gapMs / 1000).toFixed(2).padStart(6)).join("") + `   (then ${s(b.finishGapMs)} to recorded finish)`);

  out("\n" + line(["per host (ms)", "min", "median", "max"], [62, 8, 8, 8]));
  out(phaseRow("floor: node start-up of the plain process", fig.floor.phases.startup));
  out(phaseRow("floor: download (sha256 while streaming)", fig.floor.phases.download));
  out(phaseRow("floor: size + sha256 check", fig.floor.phases.verify));
  out(phaseRow("floor: unpack", fig.floor.phases.unpack));
  out(phaseRow("floor: spawn the service", fig.floor.phases.spawn));
  out(phaseRow("floor: spawned -> first healthy /healthz", fig.floor.phases.healthy));
  out(phaseRow("slipway: batch start -> artifact verified on disk", b.phases.download));
  out(phaseRow("slipway: unpack", b.phases.unpack));
  out(phaseRow("slipway: unpacked -> new process started (stops the old)", b.phases.switch));
  out(phaseRow("slipway: started -> judged healthy by the controller", b.phases.healthy));
  out(phaseRow("rollback: POST -> host serves 1.0.0", fig.rollback.servedSpread));

  const c = (ms: number) => (ms / 1000).toFixed(1).padStart(10);
  const floorCpu = fig.floor.cpuMs.fileServer + fig.floor.cpuMs.hosts + fig.floor.cpuMs.services;
  const rolloutCpu = fig.rollout.serverCpuMs + fig.rollout.agentsCpuMs + fig.rollout.newServicesCpuMs;
  out("\nCPU used, s (user + system, /proc)      server    hosts' processes    services    total");
  out(`floor (file server; plain processes)${c(fig.floor.cpuMs.fileServer)}${c(fig.floor.cpuMs.hosts)}          ${c(fig.floor.cpuMs.services)}${c(floorCpu)}`);
  out(`timed deployment (server; agents)    ${c(fig.rollout.serverCpuMs)}${c(fig.rollout.agentsCpuMs)}          ${c(fig.rollout.newServicesCpuMs)}${c(rolloutCpu)}   (${(rolloutCpu / floorCpu).toFixed(2)}x the floor's; services: the new 2.0.0 processes only)`);
  out(`rollback                             ${c(fig.rollback.serverCpuMs)}${c(fig.rollback.agentsCpuMs)}`);
  out(`idle ${(fig.idle.ms / 1000).toFixed(1)} s after deploying 1.0.0      ${c(fig.idle.serverCpuMs)}${c(fig.idle.agentsCpuMs)}          ${c(fig.idle.servicesCpuMs)}${c(fig.idle.serverCpuMs + fig.idle.agentsCpuMs + fig.idle.servicesCpuMs)}`);
  const idleCores = (fig.idle.serverCpuMs + fig.idle.agentsCpuMs + fig.idle.servicesCpuMs) / fig.idle.ms;
  out(`  with nothing to deploy the fleet keeps ${idleCores.toFixed(2)} of ${availableParallelism()} CPUs busy: each agent ${((fig.idle.agentsCpuMs / fig.idle.ms / HOSTS) * 100).toFixed(1)}% of a CPU, each service ${((fig.idle.servicesCpuMs / fig.idle.ms / HOSTS) * 100).toFixed(1)}% (health probes every ${HEALTH.intervalMs} ms once healthy)`);

  const windowsShown = [["1.0.0 (warm-up)", fig.warm.server], ["2.0.0 (timed)", fig.rollout.server], ["rollback", fig.rollback.server]] as const;
  out("\nserver, from its /metrics                             " + windowsShown.map(([name]) => name.padStart(18)).join(""));
  out("event-loop delay p50 / p99 / max, ms                  " + windowsShown.map(([, w]) => `${f0(w.loopDelay.p50)} / ${f0(w.loopDelay.p99)} / ${f0(w.loopDelay.max)}`.padStart(18)).join(""));
  const routes = [...new Set(windowsShown.flatMap(([, w]) => w.routes.map((r) => r.route)))].filter((r) => r !== "/metrics");
  for (const route of routes) {
    const cells = windowsShown.map(([, w]) => {
      const r = w.routes.find((x) => x.route === route);
      return (r ? `${r.requests} x ${r.meanMs.toFixed(1)} ms` : "-").padStart(18);
    });
    out(`${route.replace("/api/v1", "").padEnd(54)}${cells.join("")}`);
  }

  const m = fig.memory;
  const memRow = (name: string, x: Spread) => out(line([name, f0(x.min), f0(x.median), f0(x.max), String(x.count)], [58, 8, 8, 8, 7]));
  out("\n" + line(["memory, MB (/proc/<pid>/status)", "min", "median", "max", "procs"], [58, 8, 8, 8, 7]));
  memRow("agents, registered, no service yet: VmRSS", m.agentsRegistered.rssMb);
  memRow("agents, one service each, after the rollback: VmRSS", m.agents.rssMb);
  memRow("  of which RssAnon (the rest is mostly the shared node binary)", m.agents.anonMb);
  memRow("  VmHWM (peak over the run: downloads and unpacks)", m.agents.peakMb);
  memRow("services (node server.js, per process group): VmRSS", m.services.rssMb);
  memRow("  of which RssAnon", m.services.anonMb);
  memRow("server: VmRSS", m.server.rssMb);
  memRow("  RssAnon", m.server.anonMb);
  memRow("  VmHWM", m.server.peakMb);
  out(`\nDeployment state polled every ${POLL_MS} ms (${fig.rollout.polls} polls); rollback hosts probed every ${POLL_MS} ms, each until it serves 1.0.0.`);
}

try {
  const figures = await run();
  clearTimeout(deadline);
  await cleanup();
  print(figures);
} catch (error) {
  clearTimeout(deadline);
  // An abort stops the processes under the run's feet: its own message says why, and it exits.
  if (!aborting) {
    log(`FAILED: ${(error as Error).stack ?? String(error)}`);
    await cleanup();
    process.exit(1);
  }
}
