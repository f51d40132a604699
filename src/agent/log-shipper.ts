// Ships service log lines to the server (POST /api/v1/agent/logs) in batches: at most every
// `flushIntervalMs`, or sooner once `batchLines` are waiting. While the server is unreachable the
// lines wait in a bounded buffer; past `maxBuffered` the oldest are dropped (and counted) so an
// outage never grows the agent's memory without limit.
import type { LogBatch } from "../contracts/agent.ts";
import type { Logger } from "./logger.ts";

export type LogLine = LogBatch["lines"][number];

const MAX_BATCH = 5000;
export const MAX_LINE_CHARS = 8192;

export interface LogShipperOptions {
  send: (lines: LogLine[]) => Promise<unknown>;
  logger: Logger;
  flushIntervalMs?: number;
  batchLines?: number;
  maxBuffered?: number;
}

export class LogShipper {
  #buffer: LogLine[] = [];
  #dropped = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #options: Required<LogShipperOptions>;

  constructor(options: LogShipperOptions) {
    this.#options = { flushIntervalMs: 1000, batchLines: 1000, maxBuffered: 20_000, ...options };
  }

  push(line: LogLine): void {
    this.#buffer.push(line.line.length > MAX_LINE_CHARS ? { ...line, line: line.line.slice(0, MAX_LINE_CHARS) } : line);
    if (this.#buffer.length > this.#options.maxBuffered) {
      const excess = this.#buffer.length - this.#options.maxBuffered;
      this.#buffer.splice(0, excess);
      this.#dropped += excess;
    }
    if (this.#buffer.length >= this.#options.batchLines) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#options.flushIntervalMs);
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Sends what is buffered; on failure keeps it for the next attempt. Never throws. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushNow().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushNow(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#dropped > 0) {
      this.#options.logger.warn({ dropped: this.#dropped }, "dropped service log lines while the server was unreachable");
      this.#dropped = 0;
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.slice(0, MAX_BATCH);
      try {
        await this.#options.send(batch);
      } catch (error) {
        this.#options.logger.debug({ err: (error as Error).message, lines: batch.length }, "could not ship log lines; will retry");
        this.#timer = setTimeout(() => void this.flush(), Math.max(this.#options.flushIntervalMs, 2000));
        return;
      }
      this.#buffer.splice(0, batch.length);
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
