// Test sharding: how evenly splitByTimings spreads a 1,000-file suite over N runners, beside the
// round-robin split of a CI that knows no timings, and beside the best any split could do.
//
//   npm run bench:sharding
//   node bench/sharding.ts --suites 20 --seed 1 --files 1000
//
// Each suite is generated from a seeded PRNG (the same numbers on every run), in two shapes:
//   log-normal  median 1.5 s, sigma 1.2 (ln ms): most files take a second or two, a few a minute;
//   Pareto      minimum 200 ms, alpha 1.16 (the "80/20" tail): a few files dominate the total.
// and three situations:
//   known       every file's recorded time is exactly what it takes;
//   10% unknown a tenth of the files have no record and are expected to take the median;
//   noisy       files take their recorded time times log-normal noise (sigma 0.3), as reruns do.
// A shard's time is the sum of its files' real times. The figure is max shard / mean shard
// (1.00 = the shards finish together); "bound" is max(longest file, total / N) / mean, the best
// any split could reach: a shard can not be shorter than the longest file in it.
// Figures are the mean over the suites, and the worst suite in brackets.
import { parseArgs } from "node:util";
import { roundRobin, splitByTimings } from "../src/core/testing/split.ts";
import { prng } from "./support/prng.ts";

const { values: flags } = parseArgs({
  options: {
    suites: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    files: { type: "string", default: "1000" },
  },
});
const SUITES = Number(flags.suites);
const FILES = Number(flags.files);
const SHARDS = [4, 8, 16];
const AIM = 1.05;

/** A standard normal deviate (Box-Muller). */
const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

const SHAPES = {
  "log-normal": (random: () => number) => Math.exp(Math.log(1500) + 1.2 * normal(random)),
  Pareto: (random: () => number) => 200 / Math.pow(1 - random(), 1 / 1.16),
} as const;
type Shape = keyof typeof SHAPES;

const AREAS = ["api", "billing", "cart", "checkout", "db", "auth", "search", "ui", "jobs", "mail"];

function suite(shape: Shape, seed: number): Map<string, number> {
  const random = prng(seed);
  const timings = new Map<string, number>();
  for (let i = 0; i < FILES; i++) timings.set(`test/${AREAS[i % AREAS.length]}/case-${String(i).padStart(4, "0")}.test.js`, Math.round(SHAPES[shape](random)));
  return timings;
}

interface Situation {
  name: string;
  /** What Slipway knows before the run, and what each file then really takes. */
  prepare(timings: Map<string, number>, random: () => number): { recorded: Map<string, number>; actual: Map<string, number> };
}

const SITUATIONS: Situation[] = [
  { name: "known", prepare: (timings) => ({ recorded: timings, actual: timings }) },
  {
    name: "10% unknown",
    prepare: (timings, random) => ({ recorded: new Map([...timings].filter(() => random() >= 0.1)), actual: timings }),
  },
  {
    name: "noisy",
    prepare: (timings, random) => ({ recorded: timings, actual: new Map([...timings].map(([file, ms]) => [file, ms * Math.exp(0.3 * normal(random))])) }),
  },
];

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** max shard / mean shard, shards timed by what their files really take. */
function imbalance(shards: string[][], actual: Map<string, number>): number {
  const loads = shards.map((files) => sum(files.map((f) => actual.get(f)!)));
  return Math.max(...loads) / (sum(loads) / loads.length);
}

interface Cell {
  slipway: number[];
  roundRobin: number[];
  bound: number[];
  splitMs: number[];
}

const cells = new Map<string, Cell>();
const seed = Number(flags.seed);
for (const shape of Object.keys(SHAPES) as Shape[]) {
  for (let s = 0; s < SUITES; s++) {
    const timings = suite(shape, seed * 1_000 + s);
    SITUATIONS.forEach((situation, k) => {
      const { recorded, actual } = situation.prepare(timings, prng(seed * 7_919 + s * 31 + k));
      const files = [...timings.keys()];
      const total = sum([...actual.values()]);
      const longest = Math.max(...actual.values());
      for (const n of SHARDS) {
        const started = performance.now();
        const split = splitByTimings(files, recorded, n);
        const splitMs = performance.now() - started;
        const key = `${shape}|${situation.name}|${n}`;
        const cell = cells.get(key) ?? { slipway: [], roundRobin: [], bound: [], splitMs: [] };
        cell.slipway.push(imbalance(split.shards.map((sh) => sh.files), actual));
        cell.roundRobin.push(imbalance(roundRobin(files, n), actual));
        cell.bound.push(Math.max(longest, total / n) / (total / n));
        cell.splitMs.push(splitMs);
        cells.set(key, cell);
      }
    });
  }
}

const mean = (values: number[]) => sum(values) / values.length;
const fixed = (value: number) => value.toFixed(3);
const figure = (values: number[]) => `${fixed(mean(values))} (${fixed(Math.max(...values))})`;
const row = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(i === 0 ? 12 : 13) : cell.padStart(i === 2 ? 4 : 17))).join("  ");

console.log(`\nTest sharding: ${FILES.toLocaleString("en-US")} files, ${SUITES} seeded suites per shape (seed ${seed}); max shard / mean shard, mean (worst); ${process.version}\n`);
console.log(row(["shape", "timings", "N", "splitByTimings", "round-robin", "bound", "split ms"]));
let known = 0;
let missed = 0;
for (const [key, cell] of cells) {
  const [shape, situation, n] = key.split("|") as [string, string, string];
  console.log(row([shape, situation, n, figure(cell.slipway), figure(cell.roundRobin), figure(cell.bound), mean(cell.splitMs).toFixed(2)]));
  if (situation !== "known") continue;
  known += cell.slipway.length;
  // Where the longest file sets the bound above the aim, the aim is the bound itself.
  missed += cell.slipway.filter((ratio, i) => ratio > Math.max(AIM, cell.bound[i]!) + 1e-9).length;
}
console.log("");
console.log(`Aim: at most ${AIM} wherever the longest file allows it, else the bound. With known timings, ${missed} of ${known} splits missed it.`);
console.log("10% unknown: those files are expected to take the median; the long ones among them, which no record announced, make the excess.");
console.log("Noisy: the split sees the recorded times, the shards take the real ones: what a user sees from run to run.");
