// Splitting a job's test files across its N shards so that the shards finish together.
//
// Each file is expected to take its newest recorded duration; a file with no record (new, renamed,
// or never reported) is expected to take the median of the recorded files being split, or
// DEFAULT_FILE_MS when none is known. The split is then a makespan problem:
//
//   1. LPT: files longest first (ties by name), each onto the shard with the least expected time
//      so far (ties: lowest index). This alone guarantees max <= mean + the longest file.
//   2. Improvement: while the heaviest shard can hand a file to a lighter shard, or swap one of
//      its files for a shorter one there, so that both end up below its current load, the best
//      such move is made (the one that best halves the gap). Each move strictly lowers the sum of
//      squared loads, so this ends; with hundreds of files it brings max / mean to about 1.00
//      wherever the longest file allows it.
//
// The result is deterministic: the same files and timings give the same shards, whatever the
// order of the input. It always has exactly `shards` entries, so shard i is the i-th runner's
// share; with fewer files than shards the extra shards are empty, and a runner given an empty
// shard has nothing to run (it succeeds without running the command). Within a shard, files are
// listed longest first, so a test runner that runs files concurrently starts the long ones first.
import { invalidInput } from "../errors.ts";

export const DEFAULT_FILE_MS = 1000;

export interface Shard {
  files: string[];
  /** Sum of the shard's expected file durations, ms. */
  expectedMs: number;
}

export interface Split {
  /** Exactly as many as asked for; some may be empty when there are fewer files than shards. */
  shards: Shard[];
  /** The files that had no timing and were given `medianMs`, by name. */
  unknown: string[];
  /** What an unknown file is expected to take: the median of the known ones being split. */
  medianMs: number;
}

interface Item {
  file: string;
  ms: number;
}

interface Bin {
  items: Item[];
  load: number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const longestFirst = (a: Item, b: Item) => b.ms - a.ms || byName(a.file, b.file);
// Loads are sums of floating-point durations; gaps smaller than this are ties.
const EPSILON = 1e-6;

function checkShards(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1) throw invalidInput(`the number of shards must be a whole number of at least 1, not ${shards}`);
}

const isTiming = (ms: number | undefined): ms is number => ms !== undefined && Number.isFinite(ms) && ms >= 0;

/** The median of some durations, or `fallback` when there are none. */
export function median(values: readonly number[], fallback = DEFAULT_FILE_MS): number {
  if (values.length === 0) return fallback;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Splits `files` into `shards` groups of about equal expected duration (see the header). */
export function splitByTimings(files: readonly string[], timings: ReadonlyMap<string, number>, shards: number): Split {
  checkShards(shards);
  const unique = [...new Set(files)].sort(byName);
  const known = unique.map((f) => timings.get(f)).filter(isTiming);
  const medianMs = median(known);
  const unknown: string[] = [];
  const items = unique.map((file): Item => {
    const ms = timings.get(file);
    if (isTiming(ms)) return { file, ms };
    unknown.push(file);
    return { file, ms: medianMs };
  });

  const bins: Bin[] = Array.from({ length: shards }, () => ({ items: [], load: 0 }));
  for (const item of items.sort(longestFirst)) {
    let lightest = bins[0]!;
    for (const bin of bins) if (bin.load < lightest.load - EPSILON) lightest = bin;
    lightest.items.push(item);
    lightest.load += item.ms;
  }
  rebalance(bins, unique.length * shards + 100);

  return {
    shards: bins.map((bin) => {
      const sorted = bin.items.sort(longestFirst);
      return { files: sorted.map((i) => i.file), expectedMs: sorted.reduce((sum, i) => sum + i.ms, 0) };
    }),
    unknown,
    medianMs,
  };
}

/** The comparison a timing-blind CI does: files by name, dealt out like cards. */
export function roundRobin(files: readonly string[], shards: number): string[][] {
  checkShards(shards);
  const out: string[][] = Array.from({ length: shards }, () => []);
  [...new Set(files)].sort(byName).forEach((file, i) => out[i % shards]!.push(file));
  return out;
}

interface Move {
  out: Item;
  back?: Item;
  /** How far the transfer is from the ideal half of the gap: smaller is better. */
  miss: number;
}

/** Moves or swaps files off the heaviest shard while that lowers it (step 2 of the header). */
function rebalance(bins: Bin[], maxMoves: number): void {
  for (let moves = 0; moves < maxMoves; moves++) {
    const order = bins.map((bin, index) => ({ bin, index })).sort((a, b) => b.bin.load - a.bin.load || a.index - b.index);
    const heavy = order[0]!.bin;
    let applied = false;
    for (let j = order.length - 1; j > 0 && !applied; j--) {
      const light = order[j]!.bin;
      const gap = heavy.load - light.load;
      if (gap <= EPSILON) break;
      const move = bestMove(heavy, light, gap);
      if (!move) continue;
      transfer(heavy, light, move.out);
      if (move.back) transfer(light, heavy, move.back);
      applied = true;
    }
    if (!applied) return;
  }
}

/**
 * The transfer from `heavy` to `light` (one file, or one file for a shorter one) whose net
 * amount is strictly between 0 and `gap` (so both shards end below the heavy one's load) and
 * closest to gap / 2. Ties go to the first found, in longest-first, then name, order.
 */
function bestMove(heavy: Bin, light: Bin, gap: number): Move | undefined {
  const half = gap / 2;
  const fits = (delta: number) => delta > EPSILON && delta < gap - EPSILON;
  let best: Move | undefined;
  const consider = (out: Item, back: Item | undefined) => {
    const delta = out.ms - (back?.ms ?? 0);
    if (!fits(delta)) return;
    const miss = Math.abs(delta - half);
    if (!best || miss < best.miss - EPSILON) best = { out, back, miss };
  };
  const lightAscending = [...light.items].sort((a, b) => a.ms - b.ms || byName(a.file, b.file));
  for (const out of [...heavy.items].sort(longestFirst)) {
    consider(out, undefined);
    // The ideal partner takes out.ms - half; only its neighbours in duration can be best.
    const target = out.ms - half;
    const at = lowerBound(lightAscending, target);
    for (const k of [at - 1, at]) {
      const back = lightAscending[k];
      if (back) consider(out, back);
    }
  }
  return best;
}

/** The index of the first item whose duration is at least `ms`. */
function lowerBound(items: readonly Item[], ms: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.ms < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function transfer(from: Bin, to: Bin, item: Item): void {
  from.items.splice(from.items.indexOf(item), 1);
  from.load -= item.ms;
  to.items.push(item);
  to.load += item.ms;
}
