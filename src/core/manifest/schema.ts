// A service's slipway.yaml. Its runtime and deployment parts: how to run it on a host, how to
// check it is healthy, the hooks around a switch, and how to roll it out; its pipeline part (how
// it is built, tested and released) is in ../pipeline/schema.ts.
//
//   run:
//     start: node server.js
//     port: 8080
//     health: { http: /healthz, interval: 2s, start_interval: 250ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 3, start_period: 30s }
//     env: { LOG_LEVEL: info }
//     stop_timeout: 10s
//   hooks: { before_switch: ./prepare.sh, after_switch: ./warm.sh, migrate: ./migrate.sh, backup: ./backup.sh }
//   deploy:
//     strategy: rolling          # or all_at_once, or canary (see canary: and analysis:)
//     batch_size: 25%            # a count or a percentage of the environment's hosts
//     max_unavailable: 2
//     pause_between_batches: 0s
//     on_failure: rollback       # or pause
//     keep_releases: 5
//     environments: { production: { batch_size: 1 } }
//     canary:                    # with strategy: canary
//       steps: [{ hosts: 1, analyze: 2m }, { percent: 25, analyze: 5m }, { pause: until_resumed }, { percent: 100 }]
//       bake: 10m                # analysis goes on after the last step; a failure still rolls back
//     regions: [eu-west, us-east] # waves by the hosts' region label, in this order
//     wave_analyze: 5m           # analysis after each region's wave, before the next starts
//     analysis: { metrics: [...] } # ../analysis/spec.ts
import { z } from "zod";
import { pipelineProblems } from "../pipeline/dag.ts";
import { PipelineFields, type PipelineFieldValues } from "../pipeline/schema.ts";
import { AnalysisSection } from "../analysis/spec.ts";
import { Duration } from "./duration.ts";

const Command = z.string().min(1).max(4000);

export const HealthCheck = z
  .strictObject({
    http: z.string().startsWith("/", "an HTTP health check is a path such as /healthz").optional(),
    command: Command.optional(),
    interval: Duration.default(2000),
    start_interval: Duration.default(250).describe("how often a new process is probed until it is first healthy (at most interval)"),
    timeout: Duration.default(1000),
    healthy_threshold: z.number().int().min(1).max(100).default(1),
    unhealthy_threshold: z.number().int().min(1).max(100).default(3),
    start_period: Duration.default(30_000).describe("how long a new process has to become healthy"),
  })
  .refine((h) => (h.http === undefined) !== (h.command === undefined), { message: "give exactly one of http or command" });
export type HealthCheck = z.infer<typeof HealthCheck>;

export const RunSection = z.strictObject({
  start: Command,
  port: z.number().int().min(1).max(65535).optional(),
  health: HealthCheck.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable names are letters, digits and _"), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  stop_timeout: Duration.default(10_000),
  metrics: z.string().startsWith("/").optional().describe("path of a Prometheus endpoint on the service's port"),
  metrics_interval: Duration.default(5000).describe("how often the agent scrapes run.metrics"),
});
export type RunSection = z.infer<typeof RunSection>;

export const Hooks = z.strictObject({
  before_switch: Command.optional(),
  after_switch: Command.optional(),
  migrate: Command.optional().describe("run once per deployment, on one host, before any host switches"),
  backup: Command.optional().describe("run just before migrate"),
  timeout: Duration.default(600_000),
});
export type Hooks = z.infer<typeof Hooks>;

const BatchSize = z.union([
  z.number().int().min(1),
  z.string().regex(/^(100|[1-9]?\d)%$/, "a percentage such as 25%").refine((s) => s !== "0%", "must be above 0%"),
]);

/**
 * One step of a canary: switch hosts up to a count or a percentage of the first wave's hosts and
 * analyze them against the baseline for a while, or pause (for a time, or until a person resumes).
 */
export const CanaryStep = z
  .strictObject({
    hosts: z.number().int().min(1).optional(),
    percent: z.number().gt(0).max(100).optional(),
    analyze: Duration.optional().describe("how long the canary hosts are compared with the baseline after this step"),
    pause: z.union([z.literal("until_resumed"), Duration]).optional(),
  })
  .superRefine((s, ctx) => {
    const given = (["hosts", "percent", "pause"] as const).filter((k) => s[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: "custom", path: [], message: `a canary step is one of { hosts: N }, { percent: P } or { pause: 10m | until_resumed } (got ${given.length ? given.join(" and ") : "none"})` });
    else if (s.pause !== undefined && s.analyze !== undefined) ctx.addIssue({ code: "custom", path: ["analyze"], message: "a pause step does not analyze; put analyze on the step before it" });
  });
export type CanaryStep = z.infer<typeof CanaryStep>;

export const CanarySection = z.strictObject({
  steps: z.array(CanaryStep).min(1).max(50),
  bake: Duration.default(0).describe("analysis of the fully promoted release, after the last step"),
});
export type CanarySection = z.infer<typeof CanarySection>;

const DEFAULT_CANARY: CanarySection = { steps: [{ hosts: 1, analyze: 300_000 }, { percent: 50, analyze: 300_000 }, { percent: 100 }], bake: 0 };

export const RolloutFields = {
  strategy: z.enum(["rolling", "all_at_once", "canary"]),
  batch_size: BatchSize,
  max_unavailable: z.union([z.number().int().min(1), BatchSize]),
  pause_between_batches: Duration,
  on_failure: z.enum(["rollback", "pause"]),
  health_timeout: Duration.describe("how long a switched host has to report healthy"),
  max_unreachable: z.union([z.number().int().min(0), BatchSize]).describe("hosts that may be skipped because they stopped heartbeating before the deployment pauses"),
  canary: CanarySection,
  regions: z.array(z.string().min(1).max(100)).max(50).describe("waves by the hosts' region label, in this order"),
  wave_analyze: Duration.describe("analysis after each region's wave before the next region starts"),
  analysis: AnalysisSection,
};

const RolloutOverride = z.strictObject({
  strategy: RolloutFields.strategy.optional(),
  batch_size: RolloutFields.batch_size.optional(),
  max_unavailable: RolloutFields.max_unavailable.optional(),
  pause_between_batches: RolloutFields.pause_between_batches.optional(),
  on_failure: RolloutFields.on_failure.optional(),
  health_timeout: RolloutFields.health_timeout.optional(),
  max_unreachable: RolloutFields.max_unreachable.optional(),
  canary: RolloutFields.canary.optional(),
  regions: RolloutFields.regions.optional(),
  wave_analyze: RolloutFields.wave_analyze.optional(),
  analysis: RolloutFields.analysis.optional(),
});
export type RolloutOverride = z.infer<typeof RolloutOverride>;

export const DeploySection = z.strictObject({
  strategy: RolloutFields.strategy.default("rolling"),
  batch_size: RolloutFields.batch_size.default("25%"),
  max_unavailable: RolloutFields.max_unavailable.default("25%"),
  pause_between_batches: RolloutFields.pause_between_batches.default(0),
  on_failure: RolloutFields.on_failure.default("rollback"),
  health_timeout: RolloutFields.health_timeout.default(120_000),
  max_unreachable: RolloutFields.max_unreachable.default(1),
  canary: RolloutFields.canary.default(DEFAULT_CANARY),
  regions: RolloutFields.regions.default([]),
  wave_analyze: RolloutFields.wave_analyze.default(0),
  analysis: RolloutFields.analysis.optional(),
  keep_releases: z.number().int().min(2).max(100).default(5),
  environments: z.record(z.string(), RolloutOverride).default({}),
});
export type DeploySection = z.infer<typeof DeploySection>;

const RuntimeFields = {
  name: z.string().optional(),
  run: RunSection,
  hooks: Hooks.default({ timeout: 600_000 }),
  deploy: DeploySection.default(DeploySection.parse({})),
};

/** The checks across the pipeline's jobs, at the paths of the keys they are about. */
function checkPipeline(file: PipelineFieldValues, ctx: z.RefinementCtx): void {
  for (const { path, message } of pipelineProblems(file)) ctx.addIssue({ code: "custom", path, message });
}

/**
 * The whole slipway.yaml: how the service runs (run, hooks, deploy) and how it is built (the
 * pipeline keys of pipeline/schema.ts), or either alone. See parseSlipwayFile.
 */
export const SlipwayFile = z
  .strictObject({ ...RuntimeFields, run: RunSection.optional(), hooks: Hooks.optional(), deploy: DeploySection.optional(), ...PipelineFields })
  .superRefine((file, ctx) => {
    checkPipeline(file, ctx);
    for (const key of ["hooks", "deploy"] as const) {
      if (file[key] !== undefined && file.run === undefined) ctx.addIssue({ code: "custom", path: [key], message: `${key} needs run: how the service starts on a host` });
    }
    const given = (["run", "hooks", "deploy", "on", "env", "quarantine", "jobs"] as const).filter((key) => file[key] !== undefined);
    if (given.length === 0) ctx.addIssue({ code: "custom", path: [], message: "nothing is defined: give run (how the service runs), jobs (its pipeline), or both" });
  });
export type SlipwayFile = z.infer<typeof SlipwayFile>;

type Runtime = z.infer<z.ZodObject<typeof RuntimeFields>>;
const runtimeOf = ({ name, run, hooks, deploy }: Runtime): Runtime => (name === undefined ? { run, hooks, deploy } : { name, run, hooks, deploy });

/**
 * What a release runs: the runtime part of its artifact's slipway.yaml, where `run` is required.
 * The pipeline keys are accepted and checked (it is the same file) but not kept: a release
 * carries only what hosts need.
 */
export const ServiceManifest = z.strictObject({ ...RuntimeFields, ...PipelineFields }).superRefine(checkPipeline).transform(runtimeOf);
export type ServiceManifest = z.infer<typeof ServiceManifest>;

/** The runtime part of a whole file as a release would carry it; undefined when it has no run. */
export function manifestFrom(file: SlipwayFile): ServiceManifest | undefined {
  if (file.run === undefined) return undefined;
  return runtimeOf({ name: file.name, run: file.run, hooks: file.hooks ?? RuntimeFields.hooks.parse(undefined), deploy: file.deploy ?? RuntimeFields.deploy.parse(undefined) });
}

/** The rollout settings for one environment: the defaults, overridden by the environment's own. */
export type RolloutSettings = Omit<DeploySection, "environments">;

export function rolloutFor(deploy: DeploySection, environment: string, overrides: RolloutOverride = {}): RolloutSettings {
  const { environments, ...defaults } = deploy;
  const clean = (o: RolloutOverride) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return { ...defaults, ...clean(environments[environment] ?? {}), ...clean(overrides) };
}
