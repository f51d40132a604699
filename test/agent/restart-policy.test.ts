// The restart policy: pure, with time passed in.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_RESTART_POLICY as P, EMPTY_HISTORY, onCrash, type CrashHistory } from "../../src/agent/restart-policy.ts";

function crashes(times: { startedAt: number; crashedAt: number }[]) {
  let history: CrashHistory = EMPTY_HISTORY;
  return times.map(({ startedAt, crashedAt }) => {
    const decision = onCrash(P, history, startedAt, crashedAt);
    history = decision.history;
    return decision;
  });
}

describe("restart policy", () => {
  it("doubles the delay from one second up to thirty", () => {
    let t = 0;
    const delays = crashes(Array.from({ length: 4 }, () => ({ startedAt: t, crashedAt: (t += 40_000) }))).map((d) => d.delayMs);
    assert.deepEqual(delays, [1000, 2000, 4000, 8000]);
    const many = crashes(Array.from({ length: 8 }, (_, i) => ({ startedAt: i * 200_000, crashedAt: i * 200_000 + 59_000 })));
    assert.equal(many.at(-1)!.delayMs, 30_000);
  });

  it("starts over after a process stayed up for a minute", () => {
    const decisions = crashes([
      { startedAt: 0, crashedAt: 10 },
      { startedAt: 1000, crashedAt: 1010 },
      { startedAt: 3000, crashedAt: 63_000 },
    ]);
    assert.deepEqual(decisions.map((d) => d.delayMs), [1000, 2000, 1000]);
  });

  it("calls five restarts within two minutes a crash loop, and not five spread over longer", () => {
    const fast = crashes(Array.from({ length: 5 }, (_, i) => ({ startedAt: i * 10_000, crashedAt: i * 10_000 + 5 })));
    assert.deepEqual(fast.map((d) => d.crashLoop), [false, false, false, false, true]);
    assert.equal(fast.at(-1)!.delayMs, P.maxDelayMs);
    const slow = crashes(Array.from({ length: 6 }, (_, i) => ({ startedAt: i * 31_000, crashedAt: i * 31_000 + 5 })));
    assert.ok(slow.every((d) => !d.crashLoop));
  });
});
