// Where a job's time goes, phase by phase (workspace, checkout, steps, delivering the result...),
// with the monotonic clock's precision. The runner logs it at debug level ("job timings") with
// each command's spawn and exit times ("command exited"), which is what bench/pipeline.ts reads
// to tell the runner's own overhead from the commands' time.
import { preciseNow } from "./shell.ts";

export class PhaseTimer {
  readonly #started = preciseNow();
  #last = this.#started;
  /** Milliseconds spent in each phase, in the order they were first seen. */
  readonly phases: Record<string, number> = {};

  /** Closes the phase running since the last lap (or the start) and names it. */
  lap(name: string): void {
    const now = preciseNow();
    this.phases[name] = (this.phases[name] ?? 0) + (now - this.#last);
    this.#last = now;
  }

  /** The phases rounded to 1/100 ms, with the total, for a log line. */
  summary(): Record<string, number> {
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { ...Object.fromEntries(Object.entries(this.phases).map(([name, ms]) => [name, round(ms)])), total: round(this.#last - this.#started) };
  }
}
