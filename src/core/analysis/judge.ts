// The canary judge: one metric's verdict from the evidence accumulated so far in an analysis
// window, and the analysis' verdict from its metrics'.
//
// The controller sums each side's intervals (evidence.ts) and calls judgeMetric after every
// interval, with final = true at the end of the window; it acts on the first "fail" (the judge
// keeps no state, so a later call could see the canary recover: that is the controller's to
// ignore). Rules, in order, the first that applies decides:
//
//   1. no data on the canary (or, past the thresholds, on the baseline): running; at the end,
//      inconclusive (rule no_data).
//   2. max / min: the canary's own value beyond an absolute threshold fails at once, as soon as
//      the canary has min_samples (no statistics: a threshold is a promise about the value).
//   3. sequential: with min_samples on both sides, fail as soon as the always-valid interval of
//      canary - baseline lies wholly beyond the allowed degradation in the worse direction
//      (sequential.ts: the false-alarm rate stays at most alpha however often this is asked).
//   4. at the end: pass if nothing failed and both sides have min_samples, else inconclusive
//      (rule min_samples). Without a baseline (bake after full promotion) only 1, 2 and the
//      canary's min_samples apply.
import { SlipwayError } from "../errors.ts";
import { allowedOf, differenceOf, pointOf, worseSign } from "./compare.ts";
import { kindOf, type JudgeSettings, type MetricKind, type MetricSpec } from "./spec.ts";
import type { Evidence, Interval, MetricVerdict, Outcome } from "./types.ts";
import { describeVerdict } from "./words.ts";

/**
 * A value metric has one sample per host and interval, not per request: a single canary host
 * over a two-minute step at a 10 s interval gives 12. It needs min_samples of them, but never
 * more than this many, or the default of 200 would leave it inconclusive for half an hour.
 */
export const VALUE_MIN_SAMPLES_CAP = 10;

/** Samples needed on each side before anything but a threshold decides. */
export const neededSamples = (kind: MetricKind, settings: JudgeSettings): number => (kind === "value" ? Math.min(settings.min_samples, VALUE_MIN_SAMPLES_CAP) : settings.min_samples);

/** Whether the interval lies wholly beyond the allowed degradation, in the worse direction. */
export function beyondAllowed(spec: MetricSpec, difference: Interval, allowed: number): boolean {
  return worseSign(spec) > 0 ? difference.low > allowed : difference.high < -allowed;
}

export function judgeMetric(spec: MetricSpec, settings: JudgeSettings, canary: Evidence, baseline: Evidence | null, options: { final: boolean }): MetricVerdict {
  const kind = kindOf(spec);
  for (const e of baseline ? [canary, baseline] : [canary]) {
    if (e.kind !== kind) throw new SlipwayError("internal", `metric '${spec.name}' is a ${kind} but was given ${e.kind} evidence`);
  }
  const needed = neededSamples(kind, settings);
  const c = pointOf(spec, canary);
  const b = baseline ? pointOf(spec, baseline) : null;
  const allowed = allowedOf(spec, b?.value ?? null);
  const difference = baseline && c.value !== null && b?.value !== null ? differenceOf(spec, canary, baseline, allowed, settings.alpha) : null;
  const verdict = (outcome: MetricVerdict["outcome"], rule: MetricVerdict["rule"]): MetricVerdict => {
    const unworded = { metric: spec.name, outcome, rule, canary: c, baseline: b, difference, allowed };
    return { ...unworded, reason: describeVerdict(spec, unworded, { alpha: settings.alpha, needed }) };
  };
  const undecided = options.final ? "inconclusive" : "running";

  if (c.samples === 0 || c.value === null) return verdict(undecided, "no_data");
  const canaryEnough = c.samples >= needed;
  if (canaryEnough && spec.max !== undefined && c.value > spec.max) return verdict("fail", "max");
  if (canaryEnough && spec.min !== undefined && c.value < spec.min) return verdict("fail", "min");
  if (b !== null && (b.samples === 0 || b.value === null)) return verdict(undecided, "no_data");

  const enough = canaryEnough && (b === null || b.samples >= needed);
  if (difference && enough && beyondAllowed(spec, difference, allowed)) return verdict("fail", "sequential");
  if (!enough) return verdict(undecided, "min_samples");
  if (!options.final) return verdict("running", b === null ? thresholdRule(spec) : "sequential");
  return verdict("pass", b === null ? thresholdRule(spec) : "sequential");
}

/** Without a baseline, the rule a pass rests on: the threshold checked, or only the sample count. */
const thresholdRule = (spec: MetricSpec): MetricVerdict["rule"] => (spec.max !== undefined ? "max" : spec.min !== undefined ? "min" : "min_samples");

/**
 * The analysis' verdict: fail if any metric failed, else running while any is undecided, else
 * inconclusive if any is, else pass. What a failure does (rollback, pause, warn) is the
 * controller's, per metric (MetricSpec.on_failure) or per analysis.
 */
export function combineVerdicts(verdicts: MetricVerdict[]): { outcome: Outcome | "running"; reason: string } {
  if (verdicts.length === 0) return { outcome: "inconclusive", reason: "no metrics to judge" };
  const failed = verdicts.filter((v) => v.outcome === "fail");
  if (failed.length > 0) return { outcome: "fail", reason: sentences(failed) };
  const running = verdicts.filter((v) => v.outcome === "running");
  if (running.length > 0) return { outcome: "running", reason: `waiting for ${list(running.map((v) => v.metric))}` };
  const inconclusive = verdicts.filter((v) => v.outcome === "inconclusive");
  if (inconclusive.length > 0) return { outcome: "inconclusive", reason: sentences(inconclusive) };
  return { outcome: "pass", reason: verdicts.length === 1 ? verdicts[0]!.reason : `all ${verdicts.length} metrics passed` };
}

const sentences = (verdicts: MetricVerdict[]) => verdicts.map((v) => (v.reason.startsWith(v.metric) ? v.reason : `${v.metric}: ${v.reason}`)).join(". ");
const list = (names: string[]) => (names.length <= 2 ? names.join(" and ") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`);
