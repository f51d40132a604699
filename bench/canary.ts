// The canary judge against simulated request streams (seeded; no real time, no processes):
//
//   (a) false alarms: 1,000 A/A canaries per metric (the canary runs the same release as the
//       baseline), judged after every interval of the window; a false alarm is any failed look.
//   (b) detection: canaries with a real regression, and how many requests (and seconds) each
//       judge needed to fail them, and how often it did within the window.
//
// Judges, all fed the same requests: Slipway's (judgeMetric on the accumulated evidence, after
// every interval, at alpha 0.05, the default, and 0.02); Kayenta's Mann-Whitney U test on the
// per-interval values at confidence 0.98 applied the same way (after every interval, stopping
// at the first fail); and the same Mann-Whitney judged once at the end of the window, which is
// what it is valid for.
//
//   npm run bench:canary
//   node bench/canary.ts --runs 200 --seed 7
import { parseArgs } from "node:util";
import { addEvidence, emptyEvidence } from "../src/core/analysis/evidence.ts";
import { judgeMetric } from "../src/core/analysis/judge.ts";
import { MetricSpec } from "../src/core/analysis/spec.ts";
import type { Evidence, QuantileEvidence, RatioEvidence } from "../src/core/analysis/types.ts";
import { mannWhitneyFails } from "./support/canary-mann-whitney.ts";
import { LATENCY_BUCKETS, batchValue, errorBatch, latencyBatch, lognormalQuantile, type Lognormal, type Random } from "./support/canary-streams.ts";
import { prng } from "./support/prng.ts";

const { values: flags } = parseArgs({ options: { runs: { type: "string", default: "1000" }, seed: { type: "string", default: "1" } } });
const RUNS = Number(flags.runs);
const SEED = Number(flags.seed);
if (!Number.isInteger(RUNS) || RUNS < 10) throw new Error("--runs must be an integer >= 10");

/** One canary host against one baseline host (Kayenta's advice: baseline and canary of the same size). */
const RATE = 20;
const INTERVAL_S = 10;
const BATCH = RATE * INTERVAL_S;
const WINDOW_BATCHES = 30;
const WINDOW_REQUESTS = BATCH * WINDOW_BATCHES;
const ALPHAS = [0.05, 0.02];
const MIN_SAMPLES = 200;
const MW_CONFIDENCE = 0.98;
const LATENCY: Lognormal = { median: 0.05, sigma: 0.5 };

const errorRatio = MetricSpec.parse({ name: "error ratio", ratio: { numerator: "requests_total{status=~'5..'}", denominator: "requests_total" } });
const p95 = MetricSpec.parse({ name: "p95 latency", quantile: { histogram: "request_duration_seconds", q: 0.95 } });

interface Scenario {
  name: string;
  spec: MetricSpec;
  /** One interval's requests on one host: the canary's, then the baseline's. */
  batch: (random: Random, side: "canary" | "baseline") => RatioEvidence | QuantileEvidence;
}

const errorScenario = (to: number): Scenario => ({ name: `error ratio 1% -> ${to * 100}%`, spec: errorRatio, batch: (r, side) => errorBatch(r, BATCH, side === "canary" ? to : 0.01) });
const latencyScenario = (name: string, slowdown: number): Scenario => ({ name, spec: p95, batch: (r, side) => latencyBatch(r, BATCH, LATENCY, side === "canary" ? slowdown : 1) });

interface RunResult {
  /** Batches until the first fail (1-based), or null: per alpha, then repeated MW; and the fixed-horizon MW's verdict. */
  slipway: (number | null)[];
  mwRepeated: number | null;
  /** The same at confidence 0.95, the level of Netflix's A/A measurement. */
  mwRepeated95: number | null;
  mwFixed: boolean;
}

function runOnce(scenario: Scenario, random: Random): RunResult {
  let canary: Evidence = emptyEvidence(scenario.spec.ratio ? "ratio" : "quantile");
  let baseline: Evidence = canary;
  const canarySeries: number[] = [];
  const baselineSeries: number[] = [];
  const slipway: (number | null)[] = ALPHAS.map(() => null);
  let mwRepeated: number | null = null;
  let mwRepeated95: number | null = null;
  for (let batch = 1; batch <= WINDOW_BATCHES; batch++) {
    const c = scenario.batch(random, "canary");
    const b = scenario.batch(random, "baseline");
    canary = addEvidence(canary, c);
    baseline = addEvidence(baseline, b);
    canarySeries.push(batchValue(c));
    baselineSeries.push(batchValue(b));
    const final = batch === WINDOW_BATCHES;
    ALPHAS.forEach((alpha, i) => {
      if (slipway[i] !== null) return;
      if (judgeMetric(scenario.spec, { alpha, min_samples: MIN_SAMPLES }, canary, baseline, { final }).outcome === "fail") slipway[i] = batch;
    });
    if (mwRepeated === null && mannWhitneyFails(canarySeries, baselineSeries, MW_CONFIDENCE)) mwRepeated = batch;
    if (mwRepeated95 === null && mannWhitneyFails(canarySeries, baselineSeries, 0.95)) mwRepeated95 = batch;
  }
  return { slipway, mwRepeated, mwRepeated95, mwFixed: mannWhitneyFails(canarySeries, baselineSeries, MW_CONFIDENCE) };
}

function simulate(scenario: Scenario, seed: number): RunResult[] {
  const random = prng(seed);
  return Array.from({ length: RUNS }, () => runOnce(scenario, random));
}

// ---- figures --------------------------------------------------------------------------------

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const share = (results: (number | null)[], within = WINDOW_BATCHES) => results.filter((b) => b !== null && b <= within).length / results.length;
function median(batches: (number | null)[]): number | null {
  const sorted = batches.map((b) => b ?? Infinity).sort((a, b) => a - b);
  const m = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return Number.isFinite(m) ? m : null;
}
const requestsText = (batch: number | null) => (batch === null ? `> ${WINDOW_REQUESTS.toLocaleString("en-US")}` : `${(batch * BATCH).toLocaleString("en-US")} (${batch * INTERVAL_S} s)`);
const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [n, row] of rows.entries()) {
    console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
    if (n === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
};

const started = performance.now();
const p95Baseline = lognormalQuantile(LATENCY, 1.6449);
console.log(`Canary judge on simulated request streams: ${RUNS.toLocaleString("en-US")} canaries per row, seed ${SEED}, ${process.version}`);
console.log(`One canary host against one baseline host, ${RATE} requests/s each, judged every ${INTERVAL_S} s interval (${BATCH} requests per side);`);
console.log(`window ${WINDOW_BATCHES} intervals = ${(WINDOW_BATCHES * INTERVAL_S) / 60} min = ${WINDOW_REQUESTS.toLocaleString("en-US")} requests per side. min_samples ${MIN_SAMPLES}; no allowed degradation (any worse canary is a regression).`);
console.log(`Latency: lognormal, median ${LATENCY.median * 1000} ms, sigma ${LATENCY.sigma} (p95 ${Math.round(p95Baseline * 1000)} ms), in buckets ${LATENCY_BUCKETS.slice(0, -1).map((b) => b * 1000).join(", ")} ms, +Inf;`);
console.log(`Mann-Whitney: per-interval error ratio / bucketed p95 of canary vs baseline, two-sided at confidence ${MW_CONFIDENCE}, failing when the canary is higher`);
console.log(`(so ${pct((1 - MW_CONFIDENCE) / 2)} of identical canaries when judged once; 2.5% at confidence 0.95).\n`);

console.log(`(a) False alarms in ${RUNS.toLocaleString("en-US")} A/A canaries, looked at after every interval (aim: Slipway at or below its alpha)\n`);
const aa: Scenario[] = [errorScenario(0.01), latencyScenario("p95 latency, same release", 1)];
const aaRows = [["metric", ...ALPHAS.map((a) => `Slipway a=${a}`), "aim met", `MW ${MW_CONFIDENCE} after every interval`, `MW ${MW_CONFIDENCE} once at the end`, "MW 0.95 after every interval"]];
aa.forEach((scenario, i) => {
  const results = simulate(scenario, SEED * 1000 + i);
  const rates = ALPHAS.map((_, a) => share(results.map((r) => r.slipway[a]!)));
  aaRows.push([scenario.name === "error ratio 1% -> 1%" ? "error ratio 1%, same release" : scenario.name, ...rates.map(pct), rates.every((r, a) => r <= ALPHAS[a]!) ? "yes" : "NO", pct(share(results.map((r) => r.mwRepeated))), pct(results.filter((r) => r.mwFixed).length / RUNS), pct(share(results.map((r) => r.mwRepeated95)))]);
});
table(aaRows);

console.log(`\n(b) Regressions: median requests on the canary until the first fail (seconds at ${RATE} req/s), and the share detected within the window\n`);
const tenth = Math.round(WINDOW_BATCHES / 10);
const regressions: Scenario[] = [
  errorScenario(0.015),
  errorScenario(0.02),
  errorScenario(0.05),
  latencyScenario("p95 latency +20% (all requests x1.2)", 1.2),
  latencyScenario("p95 latency +50% (x1.5)", 1.5),
  latencyScenario("p95 latency x2", 2),
];
const rows = [["regression", ...ALPHAS.flatMap((a) => [`Slipway a=${a}: median`, "detected"]), "MW every interval: median", "detected", "MW once at the end: detected"]];
let aimFiveX = "";
regressions.forEach((scenario, i) => {
  const results = simulate(scenario, SEED * 1000 + 100 + i);
  rows.push([
    scenario.name,
    ...ALPHAS.flatMap((_, a) => {
      const batches = results.map((r) => r.slipway[a]!);
      return [requestsText(median(batches)), pct(share(batches))];
    }),
    requestsText(median(results.map((r) => r.mwRepeated))),
    pct(share(results.map((r) => r.mwRepeated))),
    pct(results.filter((r) => r.mwFixed).length / RUNS),
  ]);
  if (scenario.name.endsWith("-> 5%")) {
    const batches = results.map((r) => r.slipway[0]!);
    const m = median(batches);
    aimFiveX = `Aim: a 5x error ratio (1% -> 5%) detected within the first 10% of the window (${(tenth * BATCH).toLocaleString("en-US")} requests, ${tenth * INTERVAL_S} s) at alpha ${ALPHAS[0]}: median ${requestsText(m)}, ${pct(share(batches, tenth))} of canaries detected by then -> ${m !== null && m <= tenth ? "met" : "NOT met"}`;
  }
});
table(rows);
console.log(`\n${aimFiveX}`);
console.log(`The repeated Mann-Whitney's detection in (b) comes with its false alarms in (a); it needs 5 intervals before it can reject at all. Judged once, it is valid but cannot fail a canary before the window ends (${WINDOW_BATCHES * INTERVAL_S} s).`);
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
