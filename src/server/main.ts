// Starting and stopping a server: open the store, migrate, bootstrap an empty one, listen, and
// on SIGTERM/SIGINT stop taking requests, let in-flight ones finish, then close the database.
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { BlobStore } from "../artifacts/blob-store.ts";
import { CanaryAnalyst } from "../controller/analysis.ts";
import { metricSourceFor } from "../metrics/source.ts";
import { DeploymentController } from "../controller/deployments.ts";
import { GitRefPusher } from "../controller/git-refs.ts";
import { PipelineController } from "../controller/pipelines.ts";
import { TriggerController } from "../controller/triggers.ts";
import type { TokenCreated } from "../contracts/tenancy.ts";
import { bootstrapIfEmpty } from "../store/bootstrap.ts";
import { Changes } from "../store/changes.ts";
import { openStore, redactUrl, type Store } from "../store/connection.ts";
import { migrate } from "../store/migrations/index.ts";
import { MetricsRetention } from "../metrics/retention.ts";
import { buildApp, type App } from "./app.ts";
import type { ServerConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";

export interface RunningServer {
  app: App;
  store: Store;
  changes: Changes;
  url: string;
  /** The admin token created on first start of an empty store; shown once. */
  bootstrapToken: TokenCreated | undefined;
  close(): Promise<void>;
}

/**
 * The name this server's controller holds leases under. It stays the same when the same server
 * restarts (same machine, same store), so a restarted server picks its deployments up at once
 * instead of waiting for its own old leases to run out. Leases only share work; correctness
 * comes from the compare-and-set transitions, so two holders of one name cannot corrupt anything.
 */
function controllerOwner(config: ServerConfig): string {
  return `${hostname()}:${config.databaseUrl ? redactUrl(config.databaseUrl) : resolve(config.dataDir)}:${config.port}`;
}

export async function startServer(config: ServerConfig, options: { logger?: Logger; clock?: () => number } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  const store = openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  let ready = false;
  try {
    const migrated = await migrate(store.db, store.dialect);
    const applied = (migrated.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    logger.info({ store: store.dialect, location: store.location, applied }, "store ready");
    const bootstrapToken = await bootstrapIfEmpty(store.db, clock());
    const blobs = new BlobStore(join(config.dataDir, "artifacts"), config.maxArtifactBytes);
    await blobs.init();
    const changes = new Changes();
    const gitDir = join(config.dataDir, "git");
    const triggers = new TriggerController({ db: store.db, changes, clock, logger, gitDir, pollIntervalMs: config.pollIntervalMs });
    const app = await buildApp({ store, blobs, logger, metrics: createMetrics(), clock, changes, isReady: () => ready, gitDir, triggers });
    const analyst = new CanaryAnalyst({ db: store.db, logger, changes, sourceFor: (analysis) => metricSourceFor(analysis, { db: store.db }) });
    const controller = new DeploymentController({ db: store.db, changes, clock, logger, owner: controllerOwner(config), analyst });
    const pipelines = new PipelineController({ db: store.db, changes, clock, logger });
    const refs = new GitRefPusher({ db: store.db, clock, logger, gitDir });
    const retention = new MetricsRetention({ db: store.db, clock, logger, retentionMs: config.metricsRetentionMs });
    await app.listen({ host: config.host, port: config.port });
    controller.start();
    pipelines.start();
    triggers.start();
    refs.start();
    retention.start();
    logger.info({ owner: controllerOwner(config) }, "deployment controller started");
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
    ready = true;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        ready = false;
        await refs.stop();
        await retention.stop();
        await triggers.stop();
        await pipelines.stop();
        await controller.stop();
        await app.close();
        await store.close();
        logger.info("server stopped");
      })());
    return { app, store, changes, url, bootstrapToken, close };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Closes the server on SIGTERM or SIGINT; a second signal, or the grace period running out, exits at once. */
export function closeOnSignals(server: RunningServer, logger: Logger, graceMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown grace period over; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error while shutting down");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
