// Runs `work` in a transaction, or inside the caller's when it already is one, so store
// functions compose (bootstrap creates a token inside its own transaction).
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

export function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().execute(work);
}
