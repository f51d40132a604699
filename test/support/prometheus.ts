// A real Prometheus server for tests: Debian's `prometheus` binary (installed by .ci/run) on a
// free loopback port, scraping the given targets every second, with its storage in a temporary
// directory removed on stop. Tests that need it skip, saying why, when the binary is missing.
// The targets are in a file Prometheus watches (file_sd), so setTargets() changes them live.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { waitFor } from "./wait.ts";

/** The prometheus binary on PATH (or Debian's), or undefined. */
export function findPrometheus(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  return dirs.map((dir) => join(dir, "prometheus")).find((path) => existsSync(path));
}

/** For node:test's `skip`: false when Prometheus can run, else the reason. */
export const skipWithoutPrometheus = (): string | false => (findPrometheus() ? false : "the prometheus binary is not installed (.ci/run installs Debian's prometheus package)");

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface PrometheusOptions {
  /** host:port of each target. */
  targets: string[];
  metricsPath?: string;
  scrapeIntervalMs?: number;
}

export interface RunningPrometheus {
  url: string;
  /** A PromQL instant query at `at` (now by default): the API's `data`. */
  query(promql: string, at?: number): Promise<{ resultType: string; result: any }>;
  /** The raw samples [epoch ms, value] of one series over the last `rangeMs`. */
  samples(selector: string, rangeMs: number): Promise<[number, number][]>;
  /** Replaces the scraped targets (host:port); Prometheus picks the change up within a second or so. */
  setTargets(targets: string[]): Promise<void>;
  /** The last lines Prometheus logged, for failure messages. */
  logTail(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = findPrometheus();
  if (!binary) throw new Error("the prometheus binary is not installed");
  const dir = await mkdtemp(join(tmpdir(), "slipway-prometheus-"));
  const interval = `${options.scrapeIntervalMs ?? 1000}ms`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    "scrape_configs:",
    "  - job_name: services",
    `    metrics_path: ${options.metricsPath ?? "/metrics"}`,
    "    file_sd_configs:",
    `      - files: [${JSON.stringify(join(dir, "targets.json"))}]`,
    "",
  ].join("\n");
  const targetsFile = join(dir, "targets.json");
  const setTargets = async (targets: string[]) => {
    await writeFile(`${targetsFile}.tmp`, JSON.stringify([{ targets }]));
    await rename(`${targetsFile}.tmp`, targetsFile); // whole, never half-written
  };
  await setTargets(options.targets);
  await writeFile(join(dir, "prometheus.yml"), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"];
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  const log: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    log.push(...chunk.split("\n").filter(Boolean));
    log.splice(0, Math.max(0, log.length - 50));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);

  const stop = async () => {
    process.off("exit", kill);
    if (!gone) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (!gone) child.kill("SIGKILL");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`prometheus exited: ${log.join("\n")}`);
        return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "prometheus to be ready" },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const query = async (promql: string, at = Date.now()) => {
    const response = await fetch(`${url}/api/v1/query`, { method: "POST", body: new URLSearchParams({ query: promql, time: (at / 1000).toFixed(3) }) });
    const body = (await response.json()) as { status: string; data: { resultType: string; result: any }; error?: string };
    if (body.status !== "success") throw new Error(`prometheus: ${promql}: ${body.error}`);
    return body.data;
  };
  const samples = async (selector: string, rangeMs: number) => {
    const data = await query(`${selector}[${rangeMs}ms]`);
    const series = data.result as { values: [number, string][] }[];
    if (series.length > 1) throw new Error(`${selector} names ${series.length} series; name one`);
    return (series[0]?.values ?? []).map(([at, v]): [number, number] => [Math.round(at * 1000), Number(v)]);
  };
  return { url, query, samples, setTargets, logTail: () => log.join("\n"), stop };
}
