// Agent reports, committed in groups. A hundred agents report at once when a batch switches or a
// rollback starts; one transaction each means one commit (and, on SQLite with synchronous=FULL,
// one fsync on the event loop) each. Reports that arrive together are written in one
// transaction instead — each is still answered only once it is committed, so nothing a report
// says is acknowledged before it is durable. A report that fails (an unknown host) makes the
// group be written again one report at a time, so each gets its own answer.
import type { Kysely } from "kysely";
import type { AgentReport } from "../contracts/agent.ts";
import { recordReport } from "./host-state.ts";
import type { Database } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

interface Pending {
  tenantId: string;
  report: AgentReport;
  now: number;
  resolve: (generation: number) => void;
  reject: (error: unknown) => void;
}

export class ReportWriter {
  readonly #db: Kysely<Database>;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Records the report with the others that arrive meanwhile; resolves with the host's desired generation once committed. */
  record(tenantId: string, report: AgentReport, now: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ tenantId, report, now, resolve, reject });
      this.#flushing ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
    });
  }

  /** Writes groups until the queue is empty; one group at a time. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      await this.#write(group);
    }
    this.#flushing = undefined;
  }

  async #write(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        const generations = await inTransaction(this.#db, async (trx) => {
          const out: number[] = [];
          for (const p of group) out.push(await recordReport(trx, p.tenantId, p.report, p.now));
          return out;
        });
        group.forEach((p, i) => p.resolve(generations[i]!));
        return;
      } catch {
        // Written again one by one below: the failing report gets its error, the others succeed.
      }
    }
    for (const p of group) await recordReport(this.#db, p.tenantId, p.report, p.now).then(p.resolve, p.reject);
  }
}
