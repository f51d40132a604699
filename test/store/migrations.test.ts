// Migrations: applied once, idempotent on restart, and safe when several servers start together.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { openStore } from "../../src/store/connection.ts";
import { MIGRATION_NAMES, migrate } from "../../src/store/migrations/index.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const run = promisify(execFile);
let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.drop());

async function migrateInChildProcess(): Promise<string[]> {
  const { stdout } = await run(process.execPath, ["test/fixtures/migrate-once.ts", database.dataDir, database.databaseUrl ?? ""]);
  return JSON.parse(stdout) as string[];
}

describe("migrations", () => {
  it("applies every migration exactly once when three servers start at the same time", async () => {
    const applied = (await Promise.all([migrateInChildProcess(), migrateInChildProcess(), migrateInChildProcess()])).flat();
    assert.deepEqual(applied.sort(), [...MIGRATION_NAMES]);
  });

  it("does nothing when run again on a migrated store", async () => {
    const store = openStore({ dataDir: database.dataDir, databaseUrl: database.databaseUrl });
    try {
      const result = await migrate(store.db, store.dialect);
      assert.deepEqual(result.results, []);
      const tables = await store.db.introspection.getTables();
      assert.ok(tables.some((table) => table.name === "releases"));
    } finally {
      await store.close();
    }
  });
});
