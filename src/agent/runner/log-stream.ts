// Ships a job's log lines to the server (POST /runner/jobs/:id/logs) in order, in batches: a
// batch goes out once `batchLines` are waiting or `flushIntervalMs` after the first line of it.
// One request is in flight at a time, so lines arrive in the order they were written.
//
// Nothing is lost to a transient failure (network, 5xx): the same batch is sent again, with a
// growing delay, until it goes through. Memory stays bounded: past `maxBufferedBytes` of waiting
// lines, add() returns a promise that resolves only once the server has caught up, and the step
// output readers await it, which stops reading the step's pipes, which stops the step's writes
// (backpressure down to the process, as a terminal that is not read would).
//
// A batch the server refuses (a 4xx: the job is no longer this runner's) is dropped and counted:
// sending it again could not help.
import type { JobLogs } from "../../contracts/runner.ts";
import { isTransient } from "../client.ts";
import type { Logger } from "../logger.ts";
import type { Ack } from "./client.ts";

export type JobLogLine = JobLogs["lines"][number];

/** The contract's limits on one request; the byte limit keeps a batch well under the server's body limit. */
const MAX_BATCH_LINES = 5000;
const MAX_BATCH_BYTES = 512 * 1024;

export interface JobLogStreamOptions {
  send: (lines: JobLogLine[]) => Promise<Ack>;
  logger: Logger;
  /** Called when the server answers a batch with `cancel: true`. */
  onCancel?: () => void;
  flushIntervalMs?: number;
  batchLines?: number;
  maxBufferedBytes?: number;
  retryDelayMs?: { initial: number; max: number };
}

interface Queued {
  line: JobLogLine;
  /** The line's size in the request body (JSON). */
  bytes: number;
}

export class JobLogStream {
  readonly #o: Required<Omit<JobLogStreamOptions, "onCancel">> & Pick<JobLogStreamOptions, "onCancel">;
  readonly #closed = new AbortController();
  #queue: Queued[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #flushWanted = false;
  #roomWaiters: (() => void)[] = [];
  #emptyWaiters: (() => void)[] = [];
  /** Lines the server refused (never lines that met a transient failure). */
  dropped = 0;
  /** Lines the server accepted. */
  sent = 0;

  constructor(options: JobLogStreamOptions) {
    this.#o = { flushIntervalMs: 200, batchLines: 1000, maxBufferedBytes: 4 * 1024 * 1024, retryDelayMs: { initial: 250, max: 5000 }, ...options };
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Queues a line; returns a promise to await when the buffer is full (backpressure), else undefined. */
  add(line: JobLogLine): Promise<void> | undefined {
    if (this.#closed.signal.aborted) return undefined;
    const bytes = Buffer.byteLength(JSON.stringify(line.text)) + 48;
    this.#queue.push({ line, bytes });
    this.#bytes += bytes;
    if (this.#queue.length >= this.#o.batchLines) this.#start();
    else this.#timer ??= setTimeout(() => ((this.#timer = undefined), (this.#flushWanted = true), this.#start()), this.#o.flushIntervalMs);
    if (this.#bytes <= this.#o.maxBufferedBytes) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves once every line queued so far has been sent (or refused), or the stream is closed. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 || this.#closed.signal.aborted) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#emptyWaiters.push(resolve));
    this.#flushWanted = true;
    this.#start();
    return done;
  }

  /** Stops sending (what is still queued is given up) and releases every waiter. */
  close(): void {
    this.#closed.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length > 0) this.#o.logger.warn({ lines: this.#queue.length }, "gave up shipping job log lines");
    this.#queue = [];
    this.#bytes = 0;
    this.#release();
  }

  #start(): void {
    if (this.#running || this.#closed.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#closed.signal.aborted || this.#queue.length === 0) return;
      // Lines arrived during the last send: a full batch (or a wanted flush) goes now, else on the timer.
      if (this.#flushWanted || this.#queue.length >= this.#o.batchLines) this.#start();
      else this.#timer ??= setTimeout(() => ((this.#timer = undefined), (this.#flushWanted = true), this.#start()), this.#o.flushIntervalMs);
    });
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed.signal.aborted) {
      const batch = this.#nextBatch();
      const accepted = await this.#sendWithRetry(batch.map((q) => q.line));
      if (this.#closed.signal.aborted) return;
      this.#queue.splice(0, batch.length);
      this.#bytes -= batch.reduce((sum, q) => sum + q.bytes, 0);
      if (accepted) this.sent += batch.length;
      else this.dropped += batch.length;
      if (this.#bytes <= this.#o.maxBufferedBytes) this.#releaseRoom();
      if (this.#queue.length < this.#o.batchLines && !this.#flushWanted) return;
    }
    this.#flushWanted = false;
    if (this.#queue.length === 0) this.#release();
  }

  #nextBatch(): Queued[] {
    const limit = Math.min(this.#o.batchLines, MAX_BATCH_LINES);
    let bytes = 0;
    let count = 0;
    for (const queued of this.#queue) {
      if (count >= limit || (count > 0 && bytes + queued.bytes > MAX_BATCH_BYTES)) break;
      bytes += queued.bytes;
      count += 1;
    }
    return this.#queue.slice(0, count);
  }

  /** True once sent, false when the server refused the batch; retries transient failures until closed. */
  async #sendWithRetry(lines: JobLogLine[]): Promise<boolean> {
    let delay = this.#o.retryDelayMs.initial;
    for (;;) {
      try {
        const ack = await this.#o.send(lines);
        if (ack.cancel) this.#o.onCancel?.();
        return true;
      } catch (error) {
        if (!isTransient(error)) {
          this.#o.logger.warn({ err: (error as Error).message, lines: lines.length }, "the server refused job log lines; dropping them");
          return false;
        }
        this.#o.logger.debug({ err: (error as Error).message, retry_in_ms: delay }, "could not ship job log lines; retrying");
        if (!(await pause(delay, this.#closed.signal))) return false;
        delay = Math.min(this.#o.retryDelayMs.max, delay * 2);
      }
    }
  }

  #releaseRoom(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  #release(): void {
    this.#releaseRoom();
    for (const resolve of this.#emptyWaiters.splice(0)) resolve();
  }
}

/** Waits `ms`; false when `signal` aborted first. */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve(true)), ms);
    const onAbort = () => (clearTimeout(timer), resolve(false));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
