// The rollout bench's floor: the same release put on the same hosts with no orchestration. A
// plain HTTP server (bench/support/file-server.ts, its own process) serves the artifact; each
// host is a plain node process (bench/support/floor-host.ts) that downloads, verifies, unpacks,
// starts the service and waits for its first healthy probe. Batches run one after the other,
// each batch's processes all at once, as the rolling deployment does. Then the rollback's floor:
// every service stopped and started again at once (floor-restart.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnJsonLineProcess } from "../../test/support/process.ts";
import type { FloorHostInput, FloorHostResult } from "./floor-host.ts";
import { restartServices, stopGroup, type RestartOptions } from "./floor-restart.ts";
import { cpuMsOf, groupsCpuMs, spread, type Spread } from "./proc.ts";

export interface FloorOptions extends RestartOptions {
  artifact: { path: string; sha256: string; size: number };
  /** Host addresses, batch by batch. */
  batches: string[][];
  log: (message: string) => void;
  /** Receives what stops everything the floor started, for a bench that must stop before the floor ends. */
  onStop: (stop: () => Promise<void>) => void;
}

export interface FloorResult {
  totalMs: number;
  batchMs: number[];
  /** Per host, in ms: node start-up to running the script, download (incl. hashing), size+sha check, unpack, spawn, start to first healthy probe. */
  phases: Record<"startup" | "download" | "verify" | "unpack" | "spawn" | "healthy", Spread>;
  probes: Spread;
  /** CPU used by the floor's processes, by the services they started (until the last batch ended) and by its file server, ms. */
  cpuMs: { hosts: number; services: number; fileServer: number };
  /** The rollback's floor: every service stopped and started again at once, until the last is healthy. */
  restartMs: number;
}

const FLOOR_HOST = join(import.meta.dirname, "floor-host.ts");

/** Runs one floor host to completion, reniced the moment it is spawned; resolves with what it printed. */
function runFloorHost(input: FloorHostInput, nice: number, live: Set<ChildProcess>): Promise<FloorHostResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOOR_HOST, JSON.stringify(input)], { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    if (nice !== 0 && child.pid !== undefined) setPriority(child.pid, nice);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      try {
        if (code !== 0) throw new Error(`floor host ${input.address} exited (${signal ?? `code ${code}`}): ${stderr.trim()}`);
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as FloorHostResult);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const root = await mkdtemp(join(tmpdir(), "slipway-bench-floor-"));
  const servicePids: number[] = [];
  const live = new Set<ChildProcess>();
  let server: Awaited<ReturnType<typeof spawnJsonLineProcess<{ url: string }>>> | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const child of live) child.kill("SIGKILL");
      await stopGroups(servicePids);
      await server?.kill("SIGTERM");
      await rm(root, { recursive: true, force: true });
    })());
  options.onStop(stop);
  try {
    const served = join(root, "served");
    await mkdir(served);
    await copyFile(options.artifact.path, join(served, "artifact.tar.gz"));
    server = await spawnJsonLineProcess<{ url: string }>([join(import.meta.dirname, "file-server.ts"), served], { what: "floor file server" });
    const url = `${server.summary.url}/artifact.tar.gz`;
    const fileServerCpu0 = cpuMsOf(server.child.pid!);

    const results: FloorHostResult[] = [];
    const batchMs: number[] = [];
    const started = performance.now();
    for (const [index, batch] of options.batches.entries()) {
      const batchStart = performance.now();
      const done = await Promise.all(
        batch.map(async (address) => {
          const input: FloorHostInput = {
            url,
            sha256: options.artifact.sha256,
            size: options.artifact.size,
            dir: join(root, address),
            address,
            port: options.port,
            start: options.start,
            healthPath: options.healthPath,
            intervalMs: options.intervalMs,
            timeoutMs: options.timeoutMs,
          };
          const result = await runFloorHost(input, options.nice, live);
          servicePids.push(result.pid);
          return result;
        }),
      );
      batchMs.push(performance.now() - batchStart);
      results.push(...done);
      options.log(`  floor batch ${index + 1}/${options.batches.length}: ${batch.length} hosts in ${Math.round(batchMs.at(-1)!)} ms`);
    }
    const totalMs = performance.now() - started;
    const fileServerCpu = cpuMsOf(server.child.pid!) - fileServerCpu0;
    const servicesCpu = groupsCpuMs(new Set(servicePids));
    const addresses = options.batches.flat();
    const restart = await restartServices(
      results.map((r, i) => ({ address: addresses[i]!, dir: join(root, addresses[i]!, "release"), pid: r.pid })),
      options,
    );
    servicePids.splice(0, servicePids.length, ...restart.pids);
    options.log(`  floor restart: ${results.length} services stopped and started again at once in ${Math.round(restart.ms)} ms`);
    const phase = (f: (m: FloorHostResult["marks"]) => number) => spread(results.map((r) => f(r.marks)));
    return {
      totalMs,
      batchMs,
      phases: {
        startup: phase((m) => m.running - m.processStart),
        download: phase((m) => m.downloaded - m.running),
        verify: phase((m) => m.verified - m.downloaded),
        unpack: phase((m) => m.unpacked - m.verified),
        spawn: phase((m) => m.spawned - m.unpacked),
        healthy: phase((m) => m.healthy - m.spawned),
      },
      probes: spread(results.map((r) => r.probes)),
      cpuMs: { hosts: results.reduce((sum, r) => sum + r.cpuMs, 0), services: servicesCpu, fileServer: fileServerCpu },
      restartMs: restart.ms,
    };
  } finally {
    await stop();
  }
}

/** SIGTERM to each process group, SIGKILL to what is left after 3 s. */
async function stopGroups(pids: number[]): Promise<void> {
  await Promise.all(pids.map((pid) => stopGroup(pid)));
}
