// Adapts node:sqlite's DatabaseSync to the better-sqlite3-shaped interface Kysely's SQLite
// dialect expects: parameters arrive as an array and booleans become 0/1.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { SqliteAdapter, SqliteDialect, sql, type DialectAdapter, type Kysely, type MigrationLockOptions, type SqliteDatabase, type SqliteStatement } from "kysely";

function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value) => {
    if (typeof value === "boolean") return value ? 1 : 0;
    if (value === undefined) return null;
    return value as SQLInputValue;
  });
}

function adaptStatement(statement: StatementSync): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...toSqlite(parameters)),
    run: (parameters) => statement.run(...toSqlite(parameters)),
    iterate: (parameters) => statement.iterate(...toSqlite(parameters)),
  };
}

/** Statements are prepared once per distinct SQL text and reused; Kysely's SQL is parameterised, so the set stays small. */
const STATEMENT_CACHE_SIZE = 500;

export function adaptSqlite(database: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql) => {
      let statement = cache.get(sql);
      if (!statement) {
        statement = adaptStatement(database.prepare(sql));
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Kysely assumes one process per SQLite file and takes no migration lock. Two servers started
 * on one data directory would then both migrate; writing the lock row first takes SQLite's
 * write lock for the migration transaction, so the second waits and then finds the work done.
 */
class LockingSqliteAdapter extends SqliteAdapter {
  // SQLite's DDL is transactional: a migration that fails half-way leaves nothing behind.
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  override async acquireMigrationLock(db: Kysely<unknown>, options: MigrationLockOptions): Promise<void> {
    await sql`update ${sql.table(options.lockTable)} set is_locked = 1 where id = ${options.lockRowId}`.execute(db);
  }
}

export class LockingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new LockingSqliteAdapter();
  }
}
