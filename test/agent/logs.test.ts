// Log files: tailed from where the agent stopped, shipped in batches, rotated by size.
import assert from "node:assert/strict";
import { appendFile, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LogShipper, type LogLine } from "../../src/agent/log-shipper.ts";
import { LogTailer, logFile } from "../../src/agent/logs.ts";
import { waitFor } from "../support/wait.ts";
import { silentLogger, tempDir } from "./helpers.ts";

let dir: { path: string; remove: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(() => dir.remove());

describe("log tailer", () => {
  it("emits complete lines of both streams, holding a partial line until it ends", async () => {
    const logs = join(dir.path, "a");
    const lines: LogLine[] = [];
    const tailer = new LogTailer({ logsDir: logs, serviceId: "svc_1", emit: (l) => lines.push(l), now: () => 42 });
    await tailer.start();
    tailer.stop();
    await writeFile(logFile(logs, "stdout"), "one\ntwo\nthr");
    await writeFile(logFile(logs, "stderr"), "oops\n");
    await tailer.poll();
    assert.deepEqual(lines.map((l) => [l.stream, l.line]), [["stdout", "one"], ["stdout", "two"], ["stderr", "oops"]]);
    assert.deepEqual(lines[0], { service_id: "svc_1", stream: "stdout", line: "one", at: 42 });
    await appendFile(logFile(logs, "stdout"), "ee\n");
    await tailer.poll();
    assert.equal(lines.at(-1)?.line, "three");
  });

  it("resumes after a restart where the previous tailer stopped, shipping nothing twice", async () => {
    const logs = join(dir.path, "a");
    const lines: LogLine[] = [];
    const tailer = new LogTailer({ logsDir: logs, serviceId: "svc_1", emit: (l) => lines.push(l), now: () => 0 });
    await tailer.start();
    tailer.stop();
    await appendFile(logFile(logs, "stdout"), "four\n");
    await tailer.poll();
    assert.deepEqual(lines.map((l) => l.line), ["four"]);
  });

  it("rotates a file past the size limit, keeping three rotated copies and every line shipped once", async () => {
    const logs = join(dir.path, "b");
    const lines: LogLine[] = [];
    const tailer = new LogTailer({ logsDir: logs, serviceId: "svc_1", emit: (l) => lines.push(l), now: () => 0, maxBytes: 1000, keep: 3 });
    await tailer.start();
    tailer.stop();
    let n = 0;
    for (let round = 0; round < 6; round++) {
      // An O_APPEND writer, like the service's fd: it continues at the start after a truncate.
      await appendFile(logFile(logs, "stdout"), Array.from({ length: 30 }, () => `line ${n++} ${"x".repeat(40)}\n`).join(""), { flag: "a" });
      await tailer.poll();
    }
    assert.equal(lines.length, n);
    assert.deepEqual(lines.map((l) => Number(l.line.split(" ")[1])), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual((await readdir(logs)).filter((f) => f.startsWith("stdout")).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2", "stdout.log.3"]);
    assert.ok((await stat(logFile(logs, "stdout"))).size < 1000);
    assert.match(await readFile(`${logFile(logs, "stdout")}.1`, "utf8"), /^line 150 /);
  });
});

describe("log shipper", () => {
  it("ships in batches and keeps lines for later while the server is unreachable", async () => {
    const sent: LogLine[][] = [];
    let up = false;
    const shipper = new LogShipper({
      logger: silentLogger(),
      flushIntervalMs: 20,
      batchLines: 1000,
      send: async (lines) => {
        if (!up) throw new Error("ECONNREFUSED");
        sent.push(lines);
      },
    });
    for (let i = 0; i < 10; i++) shipper.push({ service_id: "s", stream: "stdout", line: `l${i}`, at: i });
    await shipper.flush();
    assert.equal(shipper.buffered, 10);
    up = true;
    await shipper.flush();
    assert.equal(shipper.buffered, 0);
    assert.deepEqual(sent.flat().map((l) => l.line), Array.from({ length: 10 }, (_, i) => `l${i}`));
    shipper.push({ service_id: "s", stream: "stdout", line: "y".repeat(10_000), at: 0 });
    await waitFor(() => sent.length === 2, { what: "the timed flush" });
    assert.equal(sent[1]![0]!.line.length, 8192, "a line longer than the protocol allows is cut");
    shipper.close();
  });

  it("drops the oldest lines past its bound instead of growing without limit", async () => {
    const shipper = new LogShipper({ logger: silentLogger(), maxBuffered: 100, batchLines: 10_000, flushIntervalMs: 60_000, send: () => Promise.reject(new Error("down")) });
    for (let i = 0; i < 250; i++) shipper.push({ service_id: "s", stream: "stdout", line: `l${i}`, at: i });
    assert.equal(shipper.buffered, 100);
    shipper.close();
  });
});
