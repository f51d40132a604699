// A running job's status: its steps' states, sent to the server (POST /runner/jobs/:id/status)
// `batchMs` (200 ms) after a change, with every change made meanwhile, and at least every heartbeat
// interval, which is also how the server knows the runner is alive (a job whose runner stops
// reporting is given to another runner, or failed, as its `retry` says). The claim was the job's
// first heartbeat, so nothing is sent before the first change or tick; a job done within
// `batchMs` reports its steps only in /finish. One request at a time; changes during a request
// are sent right after it.
// An answer with `cancel: true`, or a refusal (4xx: the job is no longer this runner's), stops
// the job; a transient failure waits for the next change or heartbeat.
import type { StepStatus } from "../../contracts/pipelines.ts";
import { isTransient } from "../client.ts";
import type { Logger } from "../logger.ts";
import type { Ack } from "./client.ts";

export interface StatusReporterOptions {
  send: (steps: StepStatus[]) => Promise<Ack>;
  intervalMs: number;
  /** How long after a change it is sent (the changes meanwhile go with it). */
  batchMs?: number;
  logger: Logger;
  onCancel: (reason: string) => void;
}

export class StatusReporter {
  readonly #o: StatusReporterOptions;
  readonly steps: StepStatus[];
  #timer: NodeJS.Timeout | undefined;
  #batch: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(steps: StepStatus[], options: StatusReporterOptions) {
    this.steps = steps;
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.#send(), Math.max(100, this.#o.intervalMs));
  }

  /** Updates step `index` and reports the change. */
  update(index: number, change: Partial<StepStatus>): void {
    const step = this.steps[index];
    if (!step) return;
    Object.assign(step, change);
    this.changed();
  }

  /** Sends the current steps in `batchMs`, with whatever else changes meanwhile. */
  changed(): void {
    if (this.#stopped || this.#batch) return;
    this.#batch = setTimeout(() => this.#send(), this.#o.batchMs ?? 200);
  }

  /** Sends the current steps now, or right after the request in flight. */
  #send(): void {
    clearTimeout(this.#batch);
    this.#batch = undefined;
    if (this.#stopped) return;
    if (this.#sending) {
      this.#again = true;
      return;
    }
    this.#sending = this.#sendLoop().finally(() => (this.#sending = undefined));
  }

  /** Stops reporting; resolves once the request in flight is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#batch);
    await this.#sending;
  }

  async #sendLoop(): Promise<void> {
    do {
      this.#again = false;
      try {
        const ack = await this.#o.send(this.steps.map((s) => ({ ...s })));
        if (ack.cancel) this.#o.onCancel("the job was cancelled");
      } catch (error) {
        if (!isTransient(error)) this.#o.onCancel(`the server refused the job's status: ${(error as Error).message}`);
        else this.#o.logger.debug({ err: (error as Error).message }, "could not report the job's status; the next heartbeat will");
        return;
      }
    } while (this.#again && !this.#stopped);
  }
}
