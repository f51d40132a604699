// Following a deployment from the outside, and reading where its time went: the deployment's
// own record (batch start events, the time each host was judged healthy) beside what each agent
// left on its disk (when the download was verified, when the unpack finished, when the service
// process was started).
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Api } from "../../test/support/api.ts";
import { versionsServed } from "./hosts.ts";
import { spread, type Spread } from "./proc.ts";

const TERMINAL = ["succeeded", "failed", "rolled_back", "cancelled", "paused"];

/** Polls GET /deployments/:id every `intervalMs` until it ends (or pauses); `at` is when that was seen (performance.now()). */
export async function followDeployment(api: Api, id: string, options: { intervalMs: number; timeoutMs: number }): Promise<{ deployment: any; at: number; polls: number }> {
  const deadline = performance.now() + options.timeoutMs;
  for (let polls = 1; ; polls++) {
    const response = await api("GET", `/api/v1/deployments/${id}`);
    if (response.status !== 200) throw new Error(`GET /api/v1/deployments/${id} answered ${response.status}: ${JSON.stringify(response.body)}`);
    if (TERMINAL.includes(response.body.state)) return { deployment: response.body, at: performance.now(), polls };
    if (performance.now() > deadline) throw new Error(`deployment ${id} still ${response.body.state} after ${options.timeoutMs} ms: ${response.body.reason ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

/**
 * Per address, the performance.now() at which it was first seen serving `version`: sweeps the
 * addresses not there yet every `intervalMs` until all are, or `timeoutMs` passes.
 */
export async function waitUntilServed(addresses: string[], port: number, version: string, options: { intervalMs: number; timeoutMs: number }): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = performance.now() + options.timeoutMs;
  while (seen.size < addresses.length) {
    const waiting = addresses.filter((a) => !seen.has(a));
    const versions = await versionsServed(waiting, port);
    const now = performance.now();
    waiting.forEach((address, i) => {
      if (versions[i] === version) seen.set(address, now);
    });
    if (seen.size === addresses.length) break;
    if (now > deadline) throw new Error(`${addresses.length - seen.size} hosts still not serving ${version} after ${options.timeoutMs} ms (e.g. ${waiting.find((a) => !seen.has(a))})`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  return seen;
}

export interface BatchTiming {
  /** From this batch's start (the controller setting the hosts' desired release) to its last host judged healthy. */
  ms: number;
  /** From the previous batch's last healthy host (or the POST, for the first) to this batch's start. */
  gapMs: number;
}

export interface RolloutBreakdown {
  batches: BatchTiming[];
  /** From the last batch's last healthy host to the deployment's finish as recorded by the server. */
  finishGapMs: number;
  /** Per host, ms: batch start to the artifact verified on disk (wake-up, desired state, download, sha256 pass); the unpack; stopping the old process and starting the new one; started to judged healthy by the controller. */
  phases: Record<"download" | "unpack" | "switch" | "healthy", Spread>;
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

/** Where a finished rolling deployment's time went, from its record and the agents' data dirs. */
export async function breakdown(deployment: any, postedAtEpoch: number, hosts: { name: string; dataDir: string }[], service: string): Promise<RolloutBreakdown> {
  const batchStarts = new Map<number, number>();
  for (const event of deployment.events as { reason: string; at: string }[]) {
    const match = /batch (\d+) of \d+/.exec(event.reason);
    if (match && !batchStarts.has(Number(match[1]) - 1)) batchStarts.set(Number(match[1]) - 1, ms(event.at));
  }
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const version = deployment.release.version as string;
  const perHost = await Promise.all(
    (deployment.hosts as { name: string; batch: number; at: string | null }[]).map(async (h) => {
      const root = join(byName.get(h.name)?.dataDir ?? "", "services", service);
      const markerPath = join(root, "releases", version, ".slipway-release.json");
      const marker = JSON.parse(await readFile(markerPath, "utf8")) as { unpacked_at: number };
      const unpackedAt = (await stat(markerPath)).mtimeMs;
      const processRecord = JSON.parse(await readFile(join(root, "shared", "process.json"), "utf8")) as { started_at: number; version: string };
      const batchStart = batchStarts.get(h.batch) ?? NaN;
      return {
        batch: h.batch,
        healthyAt: ms(h.at),
        download: marker.unpacked_at - batchStart,
        unpack: unpackedAt - marker.unpacked_at,
        switch: processRecord.version === version ? processRecord.started_at - unpackedAt : NaN,
        healthy: processRecord.version === version ? ms(h.at) - processRecord.started_at : NaN,
      };
    }),
  );
  const batches: BatchTiming[] = [];
  let previousEnd = postedAtEpoch;
  for (let b = 0; b < (deployment.batches as number); b++) {
    const start = batchStarts.get(b) ?? NaN;
    const end = Math.max(...perHost.filter((h) => h.batch === b).map((h) => h.healthyAt));
    batches.push({ ms: end - start, gapMs: start - previousEnd });
    previousEnd = end;
  }
  const pick = (f: (h: (typeof perHost)[number]) => number) => spread(perHost.map(f));
  return {
    batches,
    finishGapMs: ms(deployment.finished_at) - previousEnd,
    phases: { download: pick((h) => h.download), unpack: pick((h) => h.unpack), switch: pick((h) => h.switch), healthy: pick((h) => h.healthy) },
  };
}
