// A deployment's stages and the canary analysis behind its decisions: what each stage did, and
// every look the controller took at the metrics, with the numbers behind each verdict.
import { z } from "zod";
import { Timestamp } from "./common.ts";

export const DeploymentStage = z.object({
  label: z.string().describe("canary: 1 host, 25% of eu-west (3 hosts), region us-east, pause 10m, bake 10m, ..."),
  hosts: z.number().int().describe("hosts this stage switches"),
  analyze_ms: z.number().int().describe("how long its hosts are analyzed once healthy; 0 for none"),
  pause: z.union([z.number().int(), z.literal("until_resumed")]).nullable().describe("a pause step: milliseconds, or until a person resumes"),
  status: z.enum(["pending", "switching", "analyzing", "holding", "paused", "done", "failed", "skipped"]),
});

export const AnalysisWindowView = z.object({
  stage: z.number().int(),
  started_at: Timestamp,
  until: Timestamp,
  last_reason: z.string().nullable(),
});

export const DeploymentWarning = z.object({ at: Timestamp, reason: z.string() });

const Side = z.object({ value: z.number().nullable(), samples: z.number() });

export const AnalysisLook = z.object({
  at: Timestamp,
  final: z.boolean(),
  outcome: z.enum(["running", "pass", "fail", "inconclusive"]),
  rule: z.string(),
  canary: Side,
  baseline: Side.nullable(),
  difference: z.object({ estimate: z.number(), low: z.number().nullable(), high: z.number().nullable() }).nullable(),
  allowed: z.number(),
  reason: z.string(),
});
export type AnalysisLook = z.infer<typeof AnalysisLook>;

export const DeploymentAnalysis = z.object({
  deployment: z.string(),
  provider: z.enum(["scrape", "prometheus"]).nullable(),
  alpha: z.number().nullable(),
  metrics: z.array(z.object({ name: z.string(), kind: z.enum(["ratio", "quantile", "value"]), direction: z.enum(["lower_is_better", "higher_is_better"]) })),
  windows: z.array(
    z.object({
      stage: z.number().int(),
      label: z.string(),
      started_at: Timestamp,
      /** Per metric, its looks in time order. */
      metrics: z.record(z.string(), z.array(AnalysisLook)),
    }),
  ),
});
export type DeploymentAnalysis = z.infer<typeof DeploymentAnalysis>;
