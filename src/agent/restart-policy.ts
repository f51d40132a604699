// When to restart a crashed service, and when to call it a crash loop (pure; time is passed in).
//
// The delay doubles from `initialDelayMs` up to `maxDelayMs` with each consecutive crash, and
// starts over once a process has stayed up for `resetAfterMs`. `crashLoopRestarts` restarts
// within `crashLoopWindowMs` make it a crash loop: still restarted (at the longest delay, in case
// what it depends on comes back), but reported as "crashloop" and unhealthy.

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  resetAfterMs: number;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  crashLoopRestarts: 5,
  crashLoopWindowMs: 120_000,
};

export interface CrashHistory {
  /** Crashes since the last process that stayed up for resetAfterMs. */
  consecutive: number;
  /** When recent restarts were scheduled, oldest first (only those inside the window are kept). */
  restartTimes: number[];
}

export const EMPTY_HISTORY: CrashHistory = { consecutive: 0, restartTimes: [] };

export interface CrashDecision {
  history: CrashHistory;
  delayMs: number;
  crashLoop: boolean;
}

/** What to do about a process that started at `startedAt` and crashed at `now`. */
export function onCrash(policy: RestartPolicy, history: CrashHistory, startedAt: number, now: number): CrashDecision {
  const consecutive = now - startedAt >= policy.resetAfterMs ? 1 : history.consecutive + 1;
  const restartTimes = [...history.restartTimes, now].filter((t) => now - t < policy.crashLoopWindowMs);
  const crashLoop = restartTimes.length >= policy.crashLoopRestarts;
  const delayMs = crashLoop ? policy.maxDelayMs : Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (consecutive - 1));
  return { history: { consecutive, restartTimes }, delayMs, crashLoop };
}
