// The `deploy.analysis` section of slipway.yaml: which metrics judge a canary, where they come
// from, how sure the judge must be, and what a failure does.
//
//   deploy:
//     analysis:
//       provider: scrape            # the agents scrape run.metrics (default), or: prometheus
//       prometheus: { url: http://prometheus:9090, host_label: instance }
//       interval: 10s               # how often the judge looks at the new samples
//       alpha: 0.05                 # false-alarm rate the sequential test keeps, however often it looks
//       min_samples: 200            # per side, before anything but a `max`/`min` threshold decides
//       on_failure: rollback        # or pause (wait for a person) or warn (record it and go on)
//       on_inconclusive: pause      # not enough traffic by the end of a step: pause, warn or rollback
//       metrics:
//         - name: error ratio
//           ratio: { numerator: 'demo_requests_total{status=~"5.."}', denominator: demo_requests_total }
//           max_difference: 1%      # canary may be this much above baseline (points, for a ratio)
//           max: 5%                 # and never above this, whatever the baseline does
//         - name: p95 latency
//           quantile: { histogram: demo_request_duration_seconds, q: 0.95 }
//           max_relative: 20%
//         - name: memory
//           value: { query: process_resident_memory_bytes }
//           direction: lower_is_better
//
// Selectors are Prometheus series selectors (`name{label="v",other=~"re"}`): the same text works
// against the scraped samples and as PromQL against a Prometheus server.
import { z } from "zod";
import { Duration } from "../manifest/duration.ts";

/** `metric_name` or `metric_name{label="value",label=~"regex",label!="v"}`. */
export const Selector = z
  .string()
  .min(1)
  .max(1000)
  .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$/, "a Prometheus series selector such as http_requests_total{code=~\"5..\"}");

/** A fraction: 0.05 or "5%". */
const Fraction = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?%$/, "a number or a percentage such as 5%")]).transform((v) => (typeof v === "number" ? v : Number(v.slice(0, -1)) / 100));

/** A metric value: a plain number, a percentage (for ratios) or a duration (for latencies, in seconds). */
const Amount = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  if (/^-?\d+(\.\d+)?%$/.test(value)) return Number(value.slice(0, -1)) / 100;
  const duration = Duration.safeParse(value);
  if (duration.success) return duration.data / 1000;
  ctx.addIssue({ code: "custom", message: `'${value}' is not a number, a percentage (5%) or a duration (250ms)` });
  return z.NEVER;
});

const Kind = {
  ratio: z.strictObject({ numerator: Selector, denominator: Selector }).describe("increase of numerator / increase of denominator (counters)"),
  quantile: z.strictObject({ histogram: Selector.describe("a histogram's name, without _bucket"), q: z.number().gt(0).lt(1) }),
  value: z.strictObject({ query: z.string().min(1).max(2000).describe("a selector (scraped) or a PromQL expression (prometheus)"), rate: z.boolean().default(false) }),
};

export const MetricSpec = z
  .strictObject({
    name: z.string().min(1).max(100),
    ratio: Kind.ratio.optional(),
    quantile: Kind.quantile.optional(),
    value: Kind.value.optional(),
    direction: z.enum(["lower_is_better", "higher_is_better"]).default("lower_is_better"),
    /** How much worse than the baseline the canary may be, in the metric's unit. */
    max_difference: Amount.optional(),
    /** How much worse than the baseline the canary may be, relative to the baseline (0.2 = 20%). */
    max_relative: Fraction.optional(),
    /** Absolute thresholds on the canary's own value. */
    max: Amount.optional(),
    min: Amount.optional(),
    /** What a failure of this metric does; the analysis' on_failure when absent. */
    on_failure: z.enum(["rollback", "pause", "warn"]).optional(),
  })
  .superRefine((m, ctx) => {
    const kinds = (["ratio", "quantile", "value"] as const).filter((k) => m[k] !== undefined);
    if (kinds.length !== 1) ctx.addIssue({ code: "custom", path: [], message: `give exactly one of ratio, quantile or value (got ${kinds.length === 0 ? "none" : kinds.join(", ")})` });
  });
export type MetricSpec = z.infer<typeof MetricSpec>;
export type MetricKind = "ratio" | "quantile" | "value";
export const kindOf = (m: MetricSpec): MetricKind => (m.ratio ? "ratio" : m.quantile ? "quantile" : "value");

export const PrometheusSettings = z.strictObject({
  url: z.url(),
  /** The label naming the host a sample came from; its value is matched against the host's address (with any :port). */
  host_label: z.string().min(1).default("instance"),
  timeout: Duration.default(5000),
});
export type PrometheusSettings = z.infer<typeof PrometheusSettings>;

export const AnalysisSection = z
  .strictObject({
    provider: z.enum(["scrape", "prometheus"]).default("scrape"),
    prometheus: PrometheusSettings.optional(),
    interval: Duration.default(10_000),
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    min_samples: z.number().int().min(1).default(200),
    on_failure: z.enum(["rollback", "pause", "warn"]).default("rollback"),
    on_inconclusive: z.enum(["rollback", "pause", "warn"]).default("pause"),
    metrics: z.array(MetricSpec).min(1),
  })
  .superRefine((a, ctx) => {
    if (a.provider === "prometheus" && !a.prometheus) ctx.addIssue({ code: "custom", path: ["prometheus"], message: "provider: prometheus needs prometheus: { url: ... }" });
    const seen = new Set<string>();
    a.metrics.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: "custom", path: ["metrics", i, "name"], message: `metric '${m.name}' is named twice` });
      seen.add(m.name);
    });
  });
export type AnalysisSection = z.infer<typeof AnalysisSection>;

/** The judge's settings, taken from the analysis section. */
export type JudgeSettings = Pick<AnalysisSection, "alpha" | "min_samples">;
