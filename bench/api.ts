// API latency and throughput: GET /api/v1/services on a store the size of Flipkart's (2,000
// tenants, 3,000 services, a token per tenant), against the same route on a bare Fastify server
// returning, for each token, the same JSON list from memory. The ratio is what Slipway's auth, tenancy, database query
// and response validation cost over the HTTP framework alone.
//
//   npm run bench:api                          SQLite; and PostgreSQL too when the variable below is set
//   node bench/api.ts --store sqlite|postgres|both
//   SLIPWAY_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/api.ts --store both
//   options: --connections 10  --duration 10 (seconds measured)  --warmup 2 (seconds, discarded)
//            --log-level warn (the server's; at `info` it logs every request, which costs too)
//
// Each server runs in its own child process (the Slipway CLI, and bench/support/bare-server.ts);
// autocannon runs in this one. Every request carries the next tenant's token, so auth and the
// tenant-scoped query see all 2,000 tenants; the warm-up also makes each token's once-a-minute
// last-used write happen before measuring. Latencies are per request, to 1/100 ms.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openStore } from "../src/store/connection.ts";
import { spawnJsonLineProcess, startServerProcess, type ChildHandle } from "../test/support/process.ts";
import { runLoad, type LoadResult } from "./support/load.ts";
import { seedStore } from "./support/seed.ts";
import { createBenchStore, type BenchStore } from "./support/store.ts";

const TENANTS = 2_000;
const SERVICES = 3_000;
const PATH = "/api/v1/services";

const { values: flags } = parseArgs({
  options: {
    store: { type: "string" },
    connections: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "log-level": { type: "string", default: "warn" },
  },
});
const postgresUrl = process.env.SLIPWAY_BENCH_DATABASE_URL || undefined;
const storeChoice = flags.store ?? (postgresUrl ? "both" : "sqlite");
if (!["sqlite", "postgres", "both"].includes(storeChoice)) throw new Error(`--store must be sqlite, postgres or both, not '${storeChoice}'`);
const dialects = storeChoice === "both" ? (["sqlite", "postgres"] as const) : [storeChoice as "sqlite" | "postgres"];
const load = { connections: Number(flags.connections), durationS: Number(flags.duration), warmupS: Number(flags.warmup) };

const log = (message: string) => process.stderr.write(`${message}\n`);

/** Every tenant's real Slipway response, by Authorization header (fetching them also touches every token). */
async function slipwayBodies(url: string, tokens: string[]): Promise<Record<string, unknown>> {
  const bodies: Record<string, unknown> = {};
  let next = 0;
  const fetchNext = async (): Promise<void> => {
    for (let i = next++; i < tokens.length; i = next++) {
      const authorization = `Bearer ${tokens[i]}`;
      const response = await fetch(url + PATH, { headers: { authorization } });
      if (response.status !== 200) throw new Error(`GET ${PATH} answered ${response.status}: ${await response.text()}`);
      bodies[authorization] = await response.json();
    }
  };
  await Promise.all(Array.from({ length: load.connections }, fetchNext));
  return bodies;
}

async function measure(name: string, url: string, tokens: string[]): Promise<LoadResult> {
  log(`  ${name}: ${load.warmupS} s warm-up, then ${load.durationS} s with ${load.connections} connections`);
  await runLoad({ url, path: PATH, tokens, connections: load.connections, durationS: load.warmupS });
  const result = await runLoad({ url, path: PATH, tokens, connections: load.connections, durationS: load.durationS });
  if (result.non2xx > 0 || result.errors > 0) log(`  warning: ${name} had ${result.non2xx} non-2xx responses and ${result.errors} errors`);
  return result;
}

async function benchStore(dialect: "sqlite" | "postgres"): Promise<{ slipway: LoadResult; bare: LoadResult; seedMs: number }> {
  const children: ChildHandle<unknown>[] = [];
  let benchStore: BenchStore | undefined;
  try {
    benchStore = await createBenchStore(dialect, postgresUrl);
    log(`${dialect}: seeding ${TENANTS} tenants and ${SERVICES} services`);
    const seedStart = performance.now();
    const store = openStore({ dataDir: benchStore.dataDir, databaseUrl: benchStore.databaseUrl });
    const seeded = await seedStore(store, { tenants: TENANTS, services: SERVICES }).finally(() => store.close());
    const seedMs = performance.now() - seedStart;
    log(`  seeded in ${(seedMs / 1000).toFixed(1)} s`);

    const slipway = await startServerProcess({ dataDir: benchStore.dataDir, databaseUrl: benchStore.databaseUrl, logLevel: flags["log-level"] });
    children.push(slipway);
    const bodyFile = join(benchStore.dataDir, "bare-bodies.json");
    await writeFile(bodyFile, JSON.stringify(await slipwayBodies(slipway.url, seeded.tokens)));
    const bare = await spawnJsonLineProcess<{ url: string }>([join(import.meta.dirname, "support", "bare-server.ts"), bodyFile], { what: "bare Fastify server" });
    children.push(bare);

    const slipwayResult = await measure("slipway", slipway.url, seeded.tokens);
    const bareResult = await measure("bare fastify", bare.summary.url, seeded.tokens);
    return { slipway: slipwayResult, bare: bareResult, seedMs };
  } finally {
    await Promise.all(children.map((child) => child.kill("SIGTERM")));
    await benchStore?.drop();
  }
}

const fmt = (value: number, digits = 0) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(i === 0 ? 9 : 24) : cell.padStart(11))).join("");

const results: { dialect: string; slipway: LoadResult; bare: LoadResult; seedMs: number }[] = [];
for (const dialect of dialects) results.push({ dialect, ...(await benchStore(dialect)) });

console.log(`\nGET ${PATH}: ${fmt(TENANTS)} tenants, ${fmt(SERVICES)} services, token rotating over every tenant on each request;`);
console.log(`${load.connections} connections, ${load.durationS} s measured after ${load.warmupS} s warm-up; server log level ${flags["log-level"]}; ${process.version}\n`);
console.log(row(["store", "target", "req/s", "p50 ms", "p99 ms", "bytes/resp"]));
for (const { dialect, slipway, bare } of results) {
  console.log(row([dialect, "slipway", fmt(slipway.requestsPerSecond), fmt(slipway.p50Ms, 2), fmt(slipway.p99Ms, 2), fmt(slipway.bytesPerResponse)]));
  console.log(row([dialect, "bare fastify", fmt(bare.requestsPerSecond), fmt(bare.p50Ms, 2), fmt(bare.p99Ms, 2), fmt(bare.bytesPerResponse)]));
  console.log(
    row([dialect, "slipway / bare", `${fmt(slipway.requestsPerSecond / bare.requestsPerSecond, 2)}x`, `${fmt(slipway.p50Ms / bare.p50Ms, 1)}x`, `${fmt(slipway.p99Ms / bare.p99Ms, 1)}x`, ""]),
  );
}
console.log("");
for (const { dialect, seedMs } of results) console.log(`${dialect}: seeding took ${fmt(seedMs / 1000, 1)} s`);
console.log("The bare route returns, for each token, the list Slipway returned for it: bytes/resp differ only by headers.");
