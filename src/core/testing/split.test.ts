import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SlipwayError } from "../errors.ts";
import { DEFAULT_FILE_MS, median, roundRobin, splitByTimings, type Split } from "./split.ts";

const maxOf = (split: Split) => Math.max(...split.shards.map((s) => s.expectedMs));
const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The best possible longest shard, by trying every assignment (small inputs only). */
function optimum(durations: number[], shards: number): number {
  let best = Infinity;
  const loads = new Array<number>(shards).fill(0);
  const place = (i: number) => {
    if (i === durations.length) {
      best = Math.min(best, Math.max(...loads));
      return;
    }
    for (let s = 0; s < shards; s++) {
      loads[s]! += durations[i]!;
      if (loads[s]! < best) place(i + 1);
      loads[s]! -= durations[i]!;
    }
  };
  place(0);
  return best;
}

/** A suite: distinct file names with durations (some possibly unknown). */
const suite = fc
  .uniqueArray(fc.record({ file: fc.stringMatching(/^[a-z]{1,6}\/[a-z0-9_]{1,8}\.test\.js$/), ms: fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }) }), {
    selector: (e) => e.file,
    minLength: 0,
    maxLength: 120,
  })
  .map((entries) => ({ files: entries.map((e) => e.file), timings: new Map(entries.filter((e) => e.ms !== undefined).map((e) => [e.file, e.ms!])) }));

describe("splitByTimings", () => {
  it("balances a small suite as well as the best split", () => {
    const timings = new Map([
      ["a.test.js", 8],
      ["b.test.js", 7],
      ["c.test.js", 6],
      ["d.test.js", 5],
      ["e.test.js", 4],
    ]);
    // LPT alone gives 8+5+4 / 7+6 = 17 / 13; the best split is 8+7 / 6+5+4 = 15 / 15.
    const split = splitByTimings([...timings.keys()], timings, 2);
    assert.deepEqual(
      split.shards.map((s) => s.expectedMs),
      [15, 15],
    );
    assert.deepEqual(split.unknown, []);
  });

  it("gives unknown files the median of the known ones and names them", () => {
    const timings = new Map([
      ["a.test.js", 100],
      ["b.test.js", 300],
      ["c.test.js", 900],
      ["gone.test.js", 99_999],
    ]);
    const split = splitByTimings(["c.test.js", "new.test.js", "a.test.js", "b.test.js"], timings, 2);
    assert.equal(split.medianMs, 300, "the median of the files being split, not of every file ever timed");
    assert.deepEqual(split.unknown, ["new.test.js"]);
    assert.equal(sumOf(split.shards.map((s) => s.expectedMs)), 100 + 300 + 900 + 300);
  });

  it("expects a default duration of every file when nothing is known", () => {
    const split = splitByTimings(["a", "b", "c", "d"], new Map(), 2);
    assert.equal(split.medianMs, DEFAULT_FILE_MS);
    assert.deepEqual(split.unknown, ["a", "b", "c", "d"]);
    assert.deepEqual(
      split.shards.map((s) => s.files.length),
      [2, 2],
    );
  });

  it("treats negative and non-finite timings as unknown", () => {
    const split = splitByTimings(["a", "b", "c"], new Map([["a", -5], ["b", Number.NaN], ["c", 40]]), 1);
    assert.deepEqual(split.unknown, ["a", "b"]);
    assert.equal(split.shards[0]!.expectedMs, 120);
  });

  it("returns exactly the shards asked for, the extra ones empty, when files are fewer", () => {
    const split = splitByTimings(["a", "b"], new Map([["a", 5], ["b", 3]]), 4);
    assert.equal(split.shards.length, 4);
    assert.deepEqual(
      split.shards.map((s) => s.files),
      [["a"], ["b"], [], []],
    );
    assert.deepEqual(splitByTimings([], new Map(), 3).shards, [
      { files: [], expectedMs: 0 },
      { files: [], expectedMs: 0 },
      { files: [], expectedMs: 0 },
    ]);
  });

  it("lists a shard's files longest first and counts a repeated file once", () => {
    const split = splitByTimings(["b", "a", "c", "a"], new Map([["a", 1], ["b", 3], ["c", 2]]), 1);
    assert.deepEqual(split.shards[0], { files: ["b", "c", "a"], expectedMs: 6 });
  });

  it("refuses a shard count that is not a whole number of at least 1", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => splitByTimings(["a"], new Map(), bad), SlipwayError);
  });

  it("puts every file in exactly one shard, with the expected time of its files", () => {
    fc.assert(
      fc.property(suite, fc.integer({ min: 1, max: 12 }), ({ files, timings }, shards) => {
        const split = splitByTimings(files, timings, shards);
        assert.equal(split.shards.length, shards);
        assert.deepEqual(split.shards.flatMap((s) => s.files).sort(), [...files].sort());
        const expected = (f: string) => timings.get(f) ?? split.medianMs;
        for (const shard of split.shards) assert.ok(Math.abs(shard.expectedMs - sumOf(shard.files.map(expected))) < 1e-6);
      }),
    );
  });

  it("keeps the longest shard between the longest file and the mean plus the longest file", () => {
    fc.assert(
      fc.property(suite, fc.integer({ min: 1, max: 12 }), ({ files, timings }, shards) => {
        fc.pre(files.length > 0);
        const split = splitByTimings(files, timings, shards);
        const durations = files.map((f) => timings.get(f) ?? split.medianMs);
        const longest = Math.max(...durations);
        const mean = sumOf(durations) / shards;
        assert.ok(maxOf(split) >= longest - 1e-6);
        assert.ok(maxOf(split) <= mean + longest + 1e-6, `max ${maxOf(split)} > mean ${mean} + longest ${longest}`);
      }),
    );
  });

  it("stays within 4/3 of the best possible split", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 2, max: 3 }), (durations, shards) => {
        const files = durations.map((_, i) => `f${i}`);
        const split = splitByTimings(files, new Map(files.map((f, i) => [f, durations[i]!])), shards);
        assert.ok(maxOf(split) <= (4 / 3) * optimum(durations, shards) + 1e-6);
      }),
    );
  });

  it("gives the same shards whatever the order of the files", () => {
    fc.assert(
      fc.property(suite, fc.integer({ min: 1, max: 6 }), fc.integer(), ({ files, timings }, shards, seed) => {
        const shuffled = [...files].sort((a, b) => ((hash(a) ^ seed) % 97) - ((hash(b) ^ seed) % 97));
        assert.deepEqual(splitByTimings(shuffled, timings, shards), splitByTimings(files, timings, shards));
      }),
    );
  });
});

describe("roundRobin", () => {
  it("deals the files out by name", () => {
    assert.deepEqual(roundRobin(["d", "a", "c", "b", "e"], 2), [
      ["a", "c", "e"],
      ["b", "d"],
    ]);
  });
});

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([], 7), 7);
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h >>> 0;
}
