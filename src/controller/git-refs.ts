// Pushes the refs successful deployments queued (store/delivery.ts): a deploy tag, and the
// live / last_live branches a team following that branch strategy expects. A push that fails
// for a reason that may pass (the remote unreachable) is tried again a few times; one the
// remote refuses (a branch moved by someone else: the lease no longer holds) is recorded as
// failed with the reason, never forced.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { SlipwayError } from "../core/errors.ts";
import { pushDeployRefs } from "../git/refs.ts";
import { pendingRefUpdates, settleRefUpdate, type RefsToPush } from "../store/delivery.ts";
import type { Database } from "../store/schema.ts";
import { mirrorDirOf } from "./run-start.ts";

const MAX_ATTEMPTS = 5;

export interface GitRefDeps {
  db: Kysely<Database>;
  clock: () => number;
  logger: Pick<Logger, "info" | "warn">;
  gitDir: string;
  intervalMs?: number;
}

export class GitRefPusher {
  private readonly deps: GitRefDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(deps: GitRefDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.pass().finally(() => (this.running = undefined));
    }, this.deps.intervalMs ?? 2_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Pushes every pending update once. Exposed for tests. */
  async pass(): Promise<void> {
    const { db, clock, logger } = this.deps;
    for (const update of await pendingRefUpdates(db).catch(() => [])) {
      const refs = JSON.parse(update.refs) as RefsToPush;
      try {
        const pushed = await pushDeployRefs({
          url: update.repository_url,
          mirrorDir: mirrorDirOf(this.deps.gitDir, update.service_id),
          sha: update.sha,
          ...(refs.tag ? { tag: refs.tag } : {}),
          moveBranches: { ...(refs.live ? { live: refs.live } : {}), ...(refs.lastLive ? { lastLive: refs.lastLive } : {}) },
        });
        await settleRefUpdate(db, update.id, { state: "done", error: null, now: clock() });
        logger.info({ deployment: update.deployment_id, refs: pushed }, "pushed deployment refs");
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const final = (error instanceof SlipwayError && error.code === "conflict") || update.attempts + 1 >= MAX_ATTEMPTS;
        await settleRefUpdate(db, update.id, { state: final ? "failed" : "pending", error: message.slice(0, 2000), now: clock() });
        logger.warn({ deployment: update.deployment_id, err: message, final }, "could not push deployment refs");
      }
    }
  }
}
