// Adapts node:sqlite's DatabaseSync to the better-sqlite3-shaped interface Kysely's SQLite
// dialect expects: parameters arrive as an array and booleans become 0/1.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type DialectAdapter, type Driver, type Kysely, type MigrationLockOptions, type SqliteDatabase, type SqliteStatement } from "kysely";

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

/**
 * Transactions begin IMMEDIATE: they take the write lock (waiting up to busy_timeout) before
 * their first read. A deferred transaction that reads and then writes while another process
 * committed in between fails at once with "database is locked" (a stale WAL snapshot cannot be
 * upgraded), and the busy timeout does not help it; almost every transaction here writes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

export class LockingSqliteDialect extends SqliteDialect {
  readonly #driverConfig: ConstructorParameters<typeof SqliteDriver>[0];

  constructor(config: ConstructorParameters<typeof SqliteDriver>[0]) {
    super(config);
    this.#driverConfig = config;
  }

  override createAdapter(): DialectAdapter {
    return new LockingSqliteAdapter();
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#driverConfig);
  }
}
