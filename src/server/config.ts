// The server's configuration, parsed once at start-up from flags and SLIPWAY_* variables.
import { z } from "zod";
import { invalidInput } from "../core/errors.ts";
import { parseDuration } from "../core/manifest/duration.ts";

/** A duration with its unit ("6h", "90m") from the environment, or milliseconds from code. */
const Milliseconds = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === "number" ? value : parseDuration(value);
  if (ms === undefined || !(ms > 0)) {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a positive duration (write e.g. 30m, 6h)` });
    return z.NEVER;
  }
  return ms;
});

export const ServerConfig = z.object({
  dataDir: z.string().min(1).default(".slipway"),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65535).default(7300),
  maxArtifactBytes: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Milliseconds in-flight requests get to finish on shutdown. */
  shutdownGraceMs: z.coerce.number().int().min(0).default(10_000),
  /** Milliseconds between two polls of a service's repository for pushes. */
  pollIntervalMs: z.coerce.number().int().min(100).default(60_000),
  /** How long scraped metrics are kept; older ones are deleted periodically. */
  metricsRetentionMs: Milliseconds.default(6 * 3_600_000),
});
export type ServerConfig = z.infer<typeof ServerConfig>;

type Input = { [K in keyof ServerConfig]?: string | number | undefined };

/** Flags win over the environment; the environment over the defaults. */
export function loadServerConfig(flags: Input, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const fromEnv: Input = {
    dataDir: env.SLIPWAY_DATA_DIR,
    databaseUrl: env.SLIPWAY_DATABASE_URL,
    host: env.SLIPWAY_HOST,
    port: env.SLIPWAY_PORT,
    maxArtifactBytes: env.SLIPWAY_MAX_ARTIFACT_BYTES,
    logLevel: env.SLIPWAY_LOG_LEVEL,
    shutdownGraceMs: env.SLIPWAY_SHUTDOWN_GRACE_MS,
    pollIntervalMs: env.SLIPWAY_POLL_INTERVAL_MS,
    metricsRetentionMs: env.SLIPWAY_METRICS_RETENTION,
  };
  const merged: Input = {};
  for (const key of Object.keys({ ...fromEnv, ...flags }) as (keyof Input)[]) {
    const value = flags[key] ?? fromEnv[key];
    if (value !== undefined && value !== "") merged[key] = value;
  }
  const parsed = ServerConfig.safeParse(merged);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message }));
    throw invalidInput(`invalid server configuration: ${details.map((d) => `${d.field}: ${d.message}`).join("; ")}`, details);
  }
  return parsed.data;
}
