// Opens the store: SQLite in the data directory (the embedded default) or PostgreSQL when a
// database URL is given. Both are the same Kysely<Database> to everything above.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";
import { LockingSqliteDialect, adaptSqlite } from "./sqlite-adapter.ts";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, for logs: a file path or the URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

export function openStore(options: StoreOptions): Store {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? 10) : openSqlite(options.dataDir);
}

function openSqlite(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "slipway.db");
  const database = new DatabaseSync(file);
  // busy_timeout first: switching a new file to WAL takes a lock another process may hold.
  database.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  const db = new Kysely<Database>({ dialect: new LockingSqliteDialect({ database: adaptSqlite(database) }) });
  return { db, dialect: "sqlite", location: file, close: () => db.destroy() };
}

function openPostgres(url: string, poolSize: number): Store {
  const types = {
    getTypeParser: (oid: number, format?: string) => {
      if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
      return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: types });
  // An idle pooled connection that PostgreSQL closes (a restart, a failover, an administrator)
  // is an 'error' on the pool; unhandled, it would end the process. The pool drops that
  // connection and opens a new one on the next query, so there is nothing more to do.
  pool.on("error", (error) => process.emitWarning(`a pooled PostgreSQL connection was closed: ${error.message}`));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", location: redactUrl(url), close: () => db.destroy() };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable database URL)";
  }
}
