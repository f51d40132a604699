// A fresh, empty store for one bench run: SQLite in a temporary folder, or a new PostgreSQL
// database created next to the one `adminUrl` names and dropped afterwards.
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";

export type BenchStore = TestDatabase;

export async function createBenchStore(dialect: "sqlite" | "postgres", adminUrl: string | undefined): Promise<BenchStore> {
  if (dialect === "postgres" && !adminUrl) throw new Error("PostgreSQL needs SLIPWAY_BENCH_DATABASE_URL=postgres://...");
  return createTestDatabase({ adminUrl: dialect === "postgres" ? adminUrl : undefined, prefix: "slipway_bench" });
}
