// Numbered migrations, in code. Kysely's migrator records them in `slipway_migrations`, runs
// each pending one in a transaction, and on PostgreSQL holds an advisory lock while it does,
// so two servers starting at once apply each migration exactly once.
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from "kysely";
import type { Dialect } from "../connection.ts";
import type { Database } from "../schema.ts";
import * as foundation from "./001-foundation.ts";
import * as deployments from "./002-deployments.ts";
import * as pipelines from "./003-pipelines.ts";
import * as metrics from "./004-metrics.ts";
import * as analysis from "./005-analysis.ts";

export interface MigrationContext {
  dialect: Dialect;
}

type Step = { up(db: Kysely<unknown>, context: MigrationContext): Promise<void> };

const STEPS: Record<string, Step> = {
  "001-foundation": foundation,
  "002-deployments": deployments,
  "003-pipelines": pipelines,
  "004-metrics": metrics,
  "005-analysis": analysis,
};

/** Every migration, in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(STEPS);

export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<MigrationResultSet> {
  const migrations: Record<string, Migration> = {};
  for (const [name, step] of Object.entries(STEPS)) {
    migrations[name] = { up: (trx) => step.up(trx, { dialect }) };
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: "slipway_migrations",
    migrationLockTableName: "slipway_migrations_lock",
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw new Error("database migration failed", { cause: result.error });
  return result;
}
