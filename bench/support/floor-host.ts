// One host of the rollout bench's floor: what deploying a release to a host costs with no
// orchestration at all. A plain process downloads the artifact over HTTP (hashing it as it
// streams to disk), checks its size and sha256, unpacks it with the same tar library the agent
// uses, starts the service the way the agent does (`sh -c <start>` in the release directory, its
// own process group, PORT/BIND_ADDRESS/HOST), and waits for its first healthy /healthz, probing as
// the agent's health monitor does (first probe after min(100 ms, interval), then every interval).
//
//   node bench/support/floor-host.ts <json>   {url, sha256, size, dir, address, port, start, healthPath, intervalMs, timeoutMs}
//
// Prints one JSON line — the service's pid (left running, detached; the bench stops it) and
// epoch-millisecond marks of each phase — and exits 0; exits 1 with a message on any failure.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { extract } from "tar";
import { get, untilHealthy } from "./probe.ts";

export interface FloorHostInput {
  url: string;
  sha256: string;
  size: number;
  dir: string;
  address: string;
  port: number;
  start: string;
  healthPath: string;
  intervalMs: number;
  timeoutMs: number;
}

export interface FloorHostResult {
  pid: number;
  /** Epoch ms: process start (performance.timeOrigin), script running, then each phase's end. */
  marks: { processStart: number; running: number; downloaded: number; verified: number; unpacked: number; spawned: number; healthy: number };
  probes: number;
  /** User + system CPU of this process (not of the service it started), ms. */
  cpuMs: number;
}

const running = Date.now();
const input = JSON.parse(process.argv[2] ?? "") as FloorHostInput;

async function main(): Promise<FloorHostResult> {
  await mkdir(input.dir, { recursive: true });
  const archive = join(input.dir, "artifact.tar.gz");
  const res = await get(input.url);
  if (res.statusCode !== 200) throw new Error(`GET ${input.url} answered ${res.statusCode}`);
  const hash = createHash("sha256");
  await pipeline(
    res,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(archive),
  );
  const downloaded = Date.now();
  const size = (await stat(archive)).size;
  const sha256 = hash.digest("hex");
  if (size !== input.size || sha256 !== input.sha256) throw new Error(`artifact mismatch: expected ${input.size} bytes ${input.sha256}, got ${size} bytes ${sha256}`);
  const verified = Date.now();

  const release = join(input.dir, "release");
  await mkdir(release);
  await extract({ file: archive, cwd: release, strict: true, preservePaths: false, preserveOwner: false });
  const unpacked = Date.now();

  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(input.port), HOST: input.address, BIND_ADDRESS: input.address };
  const child = spawn("sh", ["-c", input.start], { cwd: release, env, detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${input.start}`);
  const spawned = Date.now();

  const url = `http://${input.address}:${input.port}${input.healthPath}`;
  const probes = await untilHealthy(url, input.intervalMs, input.timeoutMs, spawned + 60_000);
  const cpu = process.cpuUsage();
  return { pid, marks: { processStart: performance.timeOrigin, running, downloaded, verified, unpacked, spawned, healthy: Date.now() }, probes, cpuMs: (cpu.user + cpu.system) / 1000 };
}

main().then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`floor host ${input.address}: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
