// Deployments: a release going to an environment, as a durable state machine, and what each
// environment has live.
import { z } from "zod";
import { Labels, Slug, Timestamp } from "./common.ts";
import { AnalysisWindowView, DeploymentStage, DeploymentWarning } from "./analysis.ts";
import { Version } from "./releases.ts";

const Count = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, "a count or a percentage such as 25%")]);

export const RolloutOverrides = z.strictObject({
  strategy: z.enum(["rolling", "all_at_once", "canary"]).optional(),
  batch_size: Count.optional(),
  max_unavailable: Count.optional(),
  pause_between_batches: z.number().int().min(0).optional().describe("milliseconds"),
  on_failure: z.enum(["rollback", "pause"]).optional(),
  health_timeout: z.number().int().min(1000).optional().describe("milliseconds"),
  max_unreachable: Count.optional(),
});

export const DeploymentCreate = z.strictObject({
  version: Version,
  environment: Slug,
  rollout: RolloutOverrides.default({}).describe("overrides of the release's slipway.yaml deploy settings for this deployment"),
});
export type DeploymentCreate = z.infer<typeof DeploymentCreate>;

export const DeploymentStateName = z.enum(["queued", "migrating", "running", "paused", "rolling_back", "succeeded", "failed", "rolled_back", "cancelled"]);

export const DeploymentHost = z.object({
  id: z.string(),
  name: z.string(),
  batch: z.number().int(),
  status: z.enum(["pending", "switching", "healthy", "failed", "skipped", "rolling_back", "rolled_back"]),
  reason: z.string().nullable(),
  at: Timestamp.nullable(),
});

export const DeploymentEventView = z.object({
  seq: z.number().int(),
  from: z.string(),
  to: z.string(),
  reason: z.string(),
  actor: z.string(),
  at: Timestamp,
});

export const Deployment = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  kind: z.enum(["deploy", "rollback"]),
  release: z.object({ id: z.string(), version: z.string() }),
  previous_release: z.object({ id: z.string(), version: z.string() }).nullable(),
  state: DeploymentStateName,
  reason: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  batches: z.number().int(),
  batch: z.number().int().nullable().describe("index of the batch in progress"),
  hosts: z.array(DeploymentHost),
  migration: z.object({ host: z.string(), status: z.string(), reason: z.string().nullable() }).nullable(),
  created_by: z.string(),
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  events: z.array(DeploymentEventView),
  stages: z.array(DeploymentStage).describe("canary steps, region waves, pauses and the bake, in order"),
  stage: z.number().int().nullable().describe("index of the stage in progress"),
  analysis: AnalysisWindowView.nullable().describe("the analysis window in progress"),
  warnings: z.array(DeploymentWarning).describe("failed analyses whose response was warn"),
});
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentSummary = Deployment.omit({ hosts: true, events: true, settings: true, stages: true, stage: true, analysis: true, warnings: true });
export type DeploymentSummary = z.infer<typeof DeploymentSummary>;

export const DeploymentQuery = z.object({
  environment: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const HostServiceState = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  labels: Labels,
  reachable: z.boolean(),
  desired_version: z.string().nullable(),
  actual_version: z.string().nullable(),
  process_state: z.string(),
  health: z.string(),
  restarts: z.number().int(),
  error: z.string().nullable(),
  port: z.number().int().nullable(),
  releases_on_disk: z.array(z.string()),
  reported_at: Timestamp.nullable(),
});
export type HostServiceState = z.infer<typeof HostServiceState>;

const LiveRelease = z.object({ id: z.string(), version: z.string(), since: Timestamp, deployment_id: z.string(), deployed_by: z.string() });

export const EnvironmentStatus = z.object({
  name: z.string(),
  production: z.boolean(),
  selector: Labels,
  live: LiveRelease.nullable(),
  previous: LiveRelease.nullable(),
  hosts: z.array(HostServiceState),
  active: DeploymentSummary.nullable(),
  queued: z.number().int(),
});
export type EnvironmentStatus = z.infer<typeof EnvironmentStatus>;

export const ServiceStatus = z.object({ service: z.string(), environments: z.array(EnvironmentStatus) });
export type ServiceStatus = z.infer<typeof ServiceStatus>;

export const DeployLog = z.object({
  items: z.array(DeploymentSummary),
  summary: z.object({
    last_deploy_at: Timestamp.nullable(),
    last_deploy_by: z.string().nullable(),
    deploys_this_week: z.number().int(),
    deployers_this_week: z.number().int(),
  }),
});
export type DeployLog = z.infer<typeof DeployLog>;

export const EnvironmentParams = z.object({ service: z.string().min(1).max(200), environment: z.string().min(1).max(63) });
