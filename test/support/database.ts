// The store a test runs against: SQLite in a fresh temporary folder, or — when
// SLIPWAY_TEST_DATABASE_URL names a PostgreSQL server — a fresh database created for the test
// file and dropped after it. `npm test` runs on SQLite; CI runs it again on PostgreSQL.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface TestDatabase {
  dataDir: string;
  databaseUrl: string | undefined;
  dialect: "sqlite" | "postgres";
  drop(): Promise<void>;
}

export const postgresAdminUrl = (): string | undefined => process.env.SLIPWAY_TEST_DATABASE_URL || undefined;

/**
 * A fresh store. `adminUrl` (by default SLIPWAY_TEST_DATABASE_URL) names a PostgreSQL server to
 * create the database on; without one, SQLite in a temporary folder.
 */
export async function createTestDatabase(options: { adminUrl?: string | undefined; prefix?: string } = {}): Promise<TestDatabase> {
  const prefix = options.prefix ?? "slipway_t";
  const dataDir = await mkdtemp(join(tmpdir(), `${prefix.replaceAll("_", "-")}-`));
  const adminUrl = "adminUrl" in options ? options.adminUrl : postgresAdminUrl();
  if (!adminUrl) {
    return { dataDir, databaseUrl: undefined, dialect: "sqlite", drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    dialect: "postgres",
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
