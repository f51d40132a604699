// `slipway server`: runs the API server in the foreground until SIGTERM or SIGINT.
import type { Command } from "commander";
import { loadServerConfig } from "../server/config.ts";
import { createLogger } from "../server/logger.ts";
import { closeOnSignals, startServer } from "../server/main.ts";

export function registerServerCommand(program: Command): void {
  program
    .command("server")
    .description("run the Slipway API server (SQLite in --data-dir unless a PostgreSQL URL is given)")
    .option("--data-dir <dir>", "where the embedded database and artifacts live (env SLIPWAY_DATA_DIR)", undefined)
    .option("--database-url <url>", "PostgreSQL URL, to use PostgreSQL instead of SQLite (env SLIPWAY_DATABASE_URL)")
    .option("--host <address>", "address to listen on (env SLIPWAY_HOST)", undefined)
    .option("--port <port>", "port to listen on (env SLIPWAY_PORT, default 7300)", undefined)
    .option("--max-artifact-bytes <n>", "largest artifact accepted (env SLIPWAY_MAX_ARTIFACT_BYTES)")
    .option("--shutdown-grace-ms <ms>", "how long in-flight requests may take to finish on SIGTERM (env SLIPWAY_SHUTDOWN_GRACE_MS, default 10000)")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (env SLIPWAY_LOG_LEVEL)")
    .option("--json", "print the start-up summary as JSON")
    .action(async (options: { dataDir?: string; databaseUrl?: string; host?: string; port?: string; maxArtifactBytes?: string; logLevel?: string; shutdownGraceMs?: string; json?: boolean }) => {
      const config = loadServerConfig({
        dataDir: options.dataDir,
        databaseUrl: options.databaseUrl,
        host: options.host,
        port: options.port,
        maxArtifactBytes: options.maxArtifactBytes,
        logLevel: options.logLevel,
        shutdownGraceMs: options.shutdownGraceMs,
      });
      // Logs go to stderr so that stdout carries only what a person or script asked for.
      const logger = createLogger(config.logLevel, process.stderr);
      const server = await startServer(config, { logger });
      closeOnSignals(server, logger, config.shutdownGraceMs);
      const summary = { url: server.url, store: server.store.dialect, location: server.store.location, admin_token: server.bootstrapToken?.token ?? null };
      if (options.json) {
        process.stdout.write(JSON.stringify(summary) + "\n");
        return;
      }
      process.stdout.write(`Slipway is listening on ${server.url} (store: ${summary.store}, ${summary.location})\n`);
      if (server.bootstrapToken) {
        process.stdout.write(
          `\nFirst start: created tenant 'default' and user 'admin'. The admin token is shown only this once:\n\n  ${server.bootstrapToken.token}\n\nLog in with:  slipway login --server ${server.url} --token ${server.bootstrapToken.token}\n`,
        );
      }
    });
}
