// A service's log files (shared/logs/stdout.log and stderr.log): the process writes to them
// directly (O_APPEND fds handed over at spawn), so its logs never pass through the agent and it
// survives the agent. The agent tails them by polling, ships new lines, and rotates them by size
// the way logrotate's copytruncate does: ship what is left, copy the file to .1 (shifting .1 to .2
// and so on, keeping `keep`), truncate it. The writer's O_APPEND fd then continues at offset 0.
// Offsets are saved in shared/logs/offsets.json, so a restarted agent resumes where it stopped.
import { copyFile, mkdir, open, rename, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile, writeJsonAtomic } from "./files.ts";
import type { LogLine } from "./log-shipper.ts";
import { MAX_LINE_CHARS } from "./log-shipper.ts";

export const STREAMS = ["stdout", "stderr"] as const;
export type Stream = (typeof STREAMS)[number];

export const logFile = (logsDir: string, stream: Stream): string => join(logsDir, `${stream}.log`);

const Offsets = z.object({ stdout: z.number().int().min(0).default(0), stderr: z.number().int().min(0).default(0) });

export interface LogTailerOptions {
  logsDir: string;
  serviceId: string;
  emit: (line: LogLine) => void;
  now: () => number;
  maxBytes?: number;
  keep?: number;
  pollIntervalMs?: number;
  /** Most bytes read from one file per poll, so a burst never stalls the agent. */
  readChunkBytes?: number;
}

export class LogTailer {
  readonly #o: Required<LogTailerOptions>;
  #offsets: Record<Stream, number> = { stdout: 0, stderr: 0 };
  #partial: Record<Stream, string> = { stdout: "", stderr: "" };
  #timer: NodeJS.Timeout | undefined;
  #saved = "";
  #stopped = false;

  constructor(options: LogTailerOptions) {
    this.#o = { maxBytes: 10 * 1024 * 1024, keep: 3, pollIntervalMs: 500, readChunkBytes: 1024 * 1024, ...options };
  }

  get #offsetsFile(): string {
    return join(this.#o.logsDir, "offsets.json");
  }

  async start(): Promise<void> {
    await mkdir(this.#o.logsDir, { recursive: true });
    this.#offsets = (await readJsonFile(this.#offsetsFile, Offsets)) ?? { stdout: 0, stderr: 0 };
    this.#saved = JSON.stringify(this.#offsets);
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.poll().finally(() => this.#schedule());
    }, this.#o.pollIntervalMs);
  }

  /** Reads what is new in both files, rotating a file that has grown past maxBytes. */
  async poll(): Promise<void> {
    for (const stream of STREAMS) {
      try {
        await this.#pollStream(stream);
      } catch {
        // A file that vanished or cannot be read is tried again at the next poll.
      }
    }
    const serialized = JSON.stringify(this.#offsets);
    if (serialized !== this.#saved) {
      await writeJsonAtomic(this.#offsetsFile, this.#offsets).catch(() => undefined);
      this.#saved = serialized;
    }
  }

  async #pollStream(stream: Stream): Promise<void> {
    const path = logFile(this.#o.logsDir, stream);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return;
    }
    // Truncated behind our back (by hand, or a rotation a crash interrupted): start over.
    if (size < this.#offsets[stream]) {
      this.#offsets[stream] = 0;
      this.#partial[stream] = "";
    }
    if (size > this.#offsets[stream]) await this.#readFrom(path, stream, size);
    if (size >= this.#o.maxBytes) await this.#rotate(path, stream);
  }

  async #readFrom(path: string, stream: Stream, size: number): Promise<void> {
    const handle = await open(path, "r");
    try {
      while (this.#offsets[stream] < size) {
        const length = Math.min(this.#o.readChunkBytes, size - this.#offsets[stream]);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, this.#offsets[stream]);
        if (bytesRead === 0) break;
        this.#offsets[stream] += bytesRead;
        this.#split(stream, buffer.subarray(0, bytesRead).toString("utf8"));
      }
    } finally {
      await handle.close();
    }
  }

  #split(stream: Stream, text: string): void {
    const parts = (this.#partial[stream] + text).split("\n");
    let rest = parts.pop() ?? "";
    for (const line of parts) this.#o.emit({ service_id: this.#o.serviceId, stream, line: line.replace(/\r$/, ""), at: this.#o.now() });
    // A line without an end that is already too long to ship is shipped in pieces.
    while (rest.length > MAX_LINE_CHARS) {
      this.#o.emit({ service_id: this.#o.serviceId, stream, line: rest.slice(0, MAX_LINE_CHARS), at: this.#o.now() });
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.#partial[stream] = rest;
  }

  async #rotate(path: string, stream: Stream): Promise<void> {
    await rm(`${path}.${this.#o.keep}`, { force: true });
    for (let i = this.#o.keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    await copyFile(path, `${path}.1`);
    // Lines written between the read above and the copy are in .1; ship them before truncating.
    const copied = (await stat(`${path}.1`)).size;
    if (copied > this.#offsets[stream]) await this.#readFrom(`${path}.1`, stream, copied);
    await truncate(path, 0);
    this.#offsets[stream] = 0;
  }
}
