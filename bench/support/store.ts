// A fresh, empty store for one bench run: SQLite in a temporary folder, or a new PostgreSQL
// database created next to the one `adminUrl` names and dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface BenchStore {
  dialect: "sqlite" | "postgres";
  dataDir: string;
  databaseUrl: string | undefined;
  drop(): Promise<void>;
}

export async function createBenchStore(dialect: "sqlite" | "postgres", adminUrl: string | undefined): Promise<BenchStore> {
  const dataDir = await mkdtemp(join(tmpdir(), "slipway-bench-"));
  if (dialect === "sqlite") return { dialect, dataDir, databaseUrl: undefined, drop: () => rm(dataDir, { recursive: true, force: true }) };
  if (!adminUrl) throw new Error("PostgreSQL needs SLIPWAY_BENCH_DATABASE_URL=postgres://...");
  const name = `slipway_bench_${randomBytes(6).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dialect,
    dataDir,
    databaseUrl: url.toString(),
    drop: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
