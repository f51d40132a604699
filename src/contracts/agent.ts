// The agent protocol: what `slipway agent` and the server say to each other over HTTP. The
// server never runs commands on a host; it publishes the host's desired state, and the agent
// converges the host to it and reports what it actually has.
//
//   POST /api/v1/agent/register          AgentRegister      -> AgentRegistered
//   GET  /api/v1/agent/desired?host_id=&after=N  (long-poll) -> DesiredState (generation > N, or the same after the timeout)
//   POST /api/v1/agent/report            AgentReport        -> { generation }   (also a heartbeat)
//   POST /api/v1/agent/logs              LogBatch           -> { accepted }
//   POST /api/v1/agent/metrics           MetricsBatch       -> { accepted }
//   GET  /api/v1/artifacts/:sha256       (Range supported)  -> artifact bytes
import { z } from "zod";
import type { WireSample } from "../core/metrics/exposition.ts";
import { Labels, Sha256 } from "./common.ts";
import { HOST_ROLES, Host } from "./hosts.ts";

export const AgentRegister = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/),
  address: z.string().min(1).max(253),
  labels: Labels.default({}),
  version: z.string().max(50).default("unknown"),
  roles: z.array(z.enum(HOST_ROLES)).min(1).default(["host"]).describe("host: receives releases; runner: takes pipeline jobs"),
});
export type AgentRegister = z.infer<typeof AgentRegister>;

export const AgentRegistered = z.object({
  host: Host,
  heartbeat_interval_ms: z.number().int(),
  poll_timeout_ms: z.number().int(),
});
export type AgentRegistered = z.infer<typeof AgentRegistered>;

/** A release as a host needs it: what to download and the service's slipway.yaml (parsed). */
export const HostRelease = z.object({
  id: z.string(),
  version: z.string(),
  artifact_sha256: Sha256,
  artifact_size: z.number().int(),
  /** The parsed ServiceManifest from the artifact's slipway.yaml (see core/manifest/schema.ts). */
  manifest: z.unknown(),
});
export type HostRelease = z.infer<typeof HostRelease>;

export const DesiredService = z.object({
  service_id: z.string(),
  service: z.string(),
  /** null: the service should not run on this host (stop it). */
  release: HostRelease.nullable(),
  keep_releases: z.number().int().min(1),
});
export type DesiredService = z.infer<typeof DesiredService>;

export const AgentTask = z.object({
  id: z.string(),
  kind: z.enum(["migrate"]),
  service_id: z.string(),
  service: z.string(),
  deployment_id: z.string(),
  release: HostRelease,
});
export type AgentTask = z.infer<typeof AgentTask>;

export const DesiredState = z.object({
  host_id: z.string(),
  /** Increases with every change to this host's desired state. */
  generation: z.number().int(),
  services: z.array(DesiredService),
  tasks: z.array(AgentTask),
});
export type DesiredState = z.infer<typeof DesiredState>;

export const DesiredQuery = z.object({
  host_id: z.string(),
  after: z.coerce.number().int().default(-1).describe("answer at once if the generation is above this; otherwise wait for a change"),
  timeout_ms: z.coerce.number().int().min(0).max(60_000).default(25_000),
});

export const PROCESS_STATES = ["running", "starting", "stopped", "failed", "crashloop", "unknown"] as const;
export const HEALTH_STATES = ["healthy", "unhealthy", "unknown"] as const;

export const ActualService = z.object({
  service_id: z.string(),
  /** The release `current` points at and whose process runs (or last ran). */
  release_id: z.string().nullable(),
  /** The release the agent is working towards, when it differs from release_id. */
  attempted_release_id: z.string().nullable().default(null),
  process_state: z.enum(PROCESS_STATES),
  health: z.enum(HEALTH_STATES),
  restarts: z.number().int().min(0).default(0),
  /** What went wrong with the attempted (or current) release: checksum, unpack, hook, crash loop, health. */
  error: z.string().max(2000).nullable().default(null),
  pid: z.number().int().nullable().default(null),
  port: z.number().int().nullable().default(null),
  /** Releases unpacked on the host, newest first: a rollback to one of them needs no download. */
  releases_on_disk: z.array(z.string()).default([]),
});
export type ActualService = z.infer<typeof ActualService>;

export const TaskReport = z.object({
  id: z.string(),
  status: z.enum(["running", "succeeded", "failed"]),
  output: z.string().max(20_000).default(""),
});
export type TaskReport = z.infer<typeof TaskReport>;

export const AgentReport = z.strictObject({
  host_id: z.string(),
  /** The desired generation the agent has applied. */
  generation: z.number().int(),
  services: z.array(ActualService).default([]),
  tasks: z.array(TaskReport).default([]),
});
export type AgentReport = z.infer<typeof AgentReport>;

export const LogBatch = z.strictObject({
  host_id: z.string(),
  lines: z
    .array(z.object({ service_id: z.string(), stream: z.enum(["stdout", "stderr"]), line: z.string().max(8192), at: z.number().int() }))
    .max(5000),
});
export type LogBatch = z.infer<typeof LogBatch>;

/** Series an agent keeps of one scrape, at most. */
export const MAX_SERIES_PER_SCRAPE = 1000;

/** A sample as [name, labels, value]; NaN and the infinities as the strings "NaN", "+Inf", "-Inf" (see core/metrics/exposition.ts). */
const WireSampleSchema: z.ZodType<WireSample> = z.tuple([z.string().min(1).max(200), z.record(z.string().max(100), z.string().max(1000)), z.union([z.number(), z.enum(["NaN", "+Inf", "-Inf"])])]);

/** What an agent read at a service's run.metrics endpoint at one time. */
export const MetricScrape = z.strictObject({
  service_id: z.string(),
  /** The release the service ran when scraped. */
  release_id: z.string().nullable(),
  scraped_at: z.number().int(),
  samples: z.array(WireSampleSchema).max(MAX_SERIES_PER_SCRAPE),
});
export type MetricScrape = z.infer<typeof MetricScrape>;

export const MetricsBatch = z.strictObject({
  host_id: z.string(),
  scrapes: z.array(MetricScrape).max(500),
});
export type MetricsBatch = z.infer<typeof MetricsBatch>;
