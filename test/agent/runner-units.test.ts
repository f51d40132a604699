// The runner's executor parts that need no server: output lines (masking across chunk
// boundaries, long lines), the job log stream (order and no loss under a failing sink,
// bounded memory), and commands in their own process group (timeouts, aborts, environment).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AgentHttpError } from "../../src/agent/client.ts";
import { isSameLiveProcess } from "../../src/agent/proc.ts";
import { JobLogStream, type JobLogLine } from "../../src/agent/runner/log-stream.ts";
import { MAX_LINE_CHARS, OutputLines } from "../../src/agent/runner/output.ts";
import { runShell, type ShellCommand } from "../../src/agent/runner/shell.ts";
import { waitFor } from "../support/wait.ts";
import { silentLogger, tempDir } from "./helpers.ts";

const SECRET = "hunter2-s3cr3t-value";

describe("runner output lines", () => {
  it("never lets a secret through, wherever the chunks are cut", () => {
    const text = `start ${SECRET} middle ${SECRET}${SECRET} end\nnext line ${SECRET}\n`;
    const whole = new OutputLines([SECRET]);
    const expected = [...whole.push(text), ...whole.end()];
    assert.deepEqual(expected, ["start *** middle *** end", "next line ***"]);
    for (let cut = 1; cut < text.length; cut++) {
      for (const size of [1, 3, cut]) {
        const lines = new OutputLines([SECRET]);
        const out: string[] = [];
        for (let at = 0; at < text.length; at += size) out.push(...lines.push(Buffer.from(text.slice(at, at + size))));
        out.push(...lines.end());
        assert.deepEqual(out, expected, `chunks of ${size}`);
      }
    }
  });

  it("keeps a UTF-8 character cut between two chunks whole and drops the \\r of CRLF", () => {
    const bytes = Buffer.from("héllo wörld\r\nzwei\r\n");
    const lines = new OutputLines([]);
    const out = [...lines.push(bytes.subarray(0, 2)), ...lines.push(bytes.subarray(2, 13)), ...lines.push(bytes.subarray(13)), ...lines.end()];
    assert.deepEqual(out, ["héllo wörld", "zwei"]);
  });

  it("cuts a very long line into pieces of 16 KiB, and a line with no end at the end of the stream", () => {
    const lines = new OutputLines([]);
    const long = "x".repeat(MAX_LINE_CHARS * 2 + 5);
    const out = [...lines.push(long.slice(0, 10_000)), ...lines.push(`${long.slice(10_000)}\nlast`), ...lines.end()];
    assert.deepEqual(
      out.map((l) => l.length),
      [MAX_LINE_CHARS, MAX_LINE_CHARS, 5, 4],
    );
  });
});

describe("job log stream", () => {
  const line = (n: number): JobLogLine => ({ step: 0, stream: "stdout", at: n, text: `line ${n}` });

  it("delivers every line once, in order, through a sink that fails and recovers", async () => {
    const received: number[] = [];
    let calls = 0;
    const stream = new JobLogStream({
      logger: silentLogger(),
      flushIntervalMs: 5,
      batchLines: 50,
      retryDelayMs: { initial: 1, max: 5 },
      send: async (lines) => {
        calls += 1;
        // Every third request fails as a network error or a 503 would.
        if (calls % 3 === 0) throw calls % 2 === 0 ? new AgentHttpError("503", 503) : new Error("ECONNRESET");
        received.push(...lines.map((l) => l.at));
        return { cancel: false };
      },
    });
    for (let n = 0; n < 1234; n++) await stream.add(line(n));
    await stream.flush();
    assert.deepEqual(received, Array.from({ length: 1234 }, (_, n) => n));
    assert.equal(stream.sent, 1234);
    assert.equal(stream.dropped, 0);
    assert.ok(calls >= 6, `some requests failed and were retried (${calls} requests)`);
  });

  it("drops a batch the server refuses (4xx) and goes on with the next", async () => {
    const received: number[] = [];
    let refuse = true;
    const stream = new JobLogStream({
      logger: silentLogger(),
      flushIntervalMs: 1,
      send: async (lines) => {
        if (refuse) {
          refuse = false;
          throw new AgentHttpError("409 conflict", 409);
        }
        received.push(...lines.map((l) => l.at));
        return { cancel: false };
      },
    });
    void stream.add(line(1));
    await stream.flush();
    void stream.add(line(2));
    await stream.flush();
    assert.deepEqual(received, [2]);
    assert.equal(stream.dropped, 1);
  });

  it("makes the writer wait while more than its bound is unsent, and lets it go once the server catches up", async () => {
    let release = () => {};
    const stream = new JobLogStream({
      logger: silentLogger(),
      flushIntervalMs: 1,
      batchLines: 10,
      maxBufferedBytes: 2000,
      send: () => new Promise((resolve) => (release = () => resolve({ cancel: false }))),
    });
    let waiting: Promise<void> | undefined;
    let n = 0;
    while (!waiting && n < 1000) waiting = stream.add(line(n++));
    assert.ok(waiting, "add() asks the writer to wait");
    assert.ok(stream.bufferedBytes < 2000 + 200, `at most the bound and one line are held (${stream.bufferedBytes})`);
    let resumed = false;
    void waiting.then(() => (resumed = true));
    await waitFor(async () => (release(), await new Promise((r) => setImmediate(r)), resumed));
    await waitFor(async () => (release(), stream.bufferedBytes === 0));
  });

  it("tells the job when the server answers a batch with cancel", async () => {
    let cancelled = false;
    const stream = new JobLogStream({ logger: silentLogger(), flushIntervalMs: 1, send: async () => ({ cancel: true }), onCancel: () => (cancelled = true) });
    void stream.add(line(1));
    await stream.flush();
    assert.equal(cancelled, true);
  });
});

describe("runner shell commands", () => {
  const run = (dir: string, command: string, extra: Partial<ShellCommand> = {}) => {
    const lines: string[] = [];
    const result = runShell({
      command,
      cwd: dir,
      env: { PATH: process.env.PATH ?? "" },
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      secrets: [],
      onLine: (stream, text) => void lines.push(`${stream}: ${text}`),
      killGraceMs: 200,
      ...extra,
    });
    return { result, lines };
  };

  it("kills the whole process group when the command times out, background children included", async () => {
    const dir = await tempDir("slipway-runner-");
    try {
      const { result } = run(dir.path, "sleep 30 & echo $! > child.pid; wait", { timeoutMs: 300 });
      const done = await result;
      assert.equal(done.timedOut, true);
      assert.notEqual(done.exitCode, 0);
      const child = Number(await readFile(join(dir.path, "child.pid"), "utf8"));
      await waitFor(() => !isSameLiveProcess(child, null), { what: "the background sleep to be killed", timeoutMs: 5000 });
    } finally {
      await dir.remove();
    }
  });

  it("sends SIGKILL after the grace to a command that ignores SIGTERM when aborted", async () => {
    const dir = await tempDir("slipway-runner-");
    try {
      const abort = new AbortController();
      const { result, lines } = run(dir.path, "trap '' TERM; echo ready; while true; do sleep 0.05; done", { signal: abort.signal });
      await waitFor(() => lines.includes("stdout: ready"));
      abort.abort();
      const done = await result;
      assert.equal(done.aborted, true);
      assert.equal(done.timedOut, false);
      assert.equal(done.exitCode, 128 + 9);
    } finally {
      await dir.remove();
    }
  });

  it("stops at the first failing command of a multi-line run and fails a broken pipeline", async () => {
    const dir = await tempDir("slipway-runner-");
    try {
      const first = run(dir.path, "echo one\nfalse\necho never");
      assert.equal((await first.result).exitCode, 1);
      assert.deepEqual(first.lines, ["stdout: one"]);
      const piped = run(dir.path, "false | cat");
      assert.notEqual((await piped.result).exitCode, 0);
    } finally {
      await dir.remove();
    }
  });
});
