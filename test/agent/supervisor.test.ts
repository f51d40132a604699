// The supervisor against real processes: crashes, backoff, crash loops, process groups, and
// adoption of a process a previous agent started.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { liveGroupMembers, readProcStat } from "../../src/agent/proc.ts";
import type { RestartPolicy } from "../../src/agent/restart-policy.ts";
import { Supervisor, type LaunchSpec } from "../../src/agent/supervisor.ts";
import { waitFor } from "../support/wait.ts";
import { silentLogger, tempDir } from "./helpers.ts";

const FAST: RestartPolicy = { initialDelayMs: 50, maxDelayMs: 800, resetAfterMs: 60_000, crashLoopRestarts: 5, crashLoopWindowMs: 120_000 };
let dir: { path: string; remove: () => Promise<void> };
const supervisors: Supervisor[] = [];

before(async () => {
  dir = await tempDir();
});
after(async () => {
  for (const s of supervisors) await s.stop(500);
  await dir.remove();
});

function supervisor(name: string, policy = FAST): Supervisor {
  const s = new Supervisor({ processFile: join(dir.path, `${name}.process.json`), policy, now: Date.now, logger: silentLogger(), pollIntervalMs: 50, onChange: () => undefined });
  supervisors.push(s);
  return s;
}

const spec = (name: string, command: string): LaunchSpec => ({
  command,
  cwd: dir.path,
  env: { PATH: process.env.PATH },
  releaseId: "rel_1",
  version: "1.0.0",
  stdoutPath: join(dir.path, `${name}.out.log`),
  stderrPath: join(dir.path, `${name}.err.log`),
});

describe("supervisor", () => {
  it("restarts a crashing process with growing delays and calls it a crash loop after five restarts", async () => {
    const s = supervisor("crash");
    const starts = join(dir.path, "starts");
    await s.start(spec("crash", `date +%s%N >> ${starts}; echo boom >&2; exit 1`), 500);
    await waitFor(() => s.inCrashLoop, { timeoutMs: 10_000, what: "a crash loop" });
    const times = (await readFile(starts, "utf8")).trim().split("\n").map((ns) => Number(BigInt(ns) / 1_000_000n));
    assert.ok(times.length >= 5, `started ${times.length} times`);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 50, 100, 200, 400 ms (+ process start-up): each wait is longer than the one before.
    assert.ok(gaps[3]! > gaps[0]! * 3, `gaps ${gaps.join(", ")}`);
    assert.ok(s.status.restarts >= 4);
    assert.match(s.status.lastExit ?? "", /exited with code 1/);
    assert.match(await readFile(join(dir.path, "crash.err.log"), "utf8"), /boom/);
  });

  it("writes the process's stdout and stderr straight into its log files", async () => {
    const s = supervisor("logs");
    await s.start(spec("logs", "echo hello; echo oops >&2; exec sleep 60"), 500);
    await waitFor(async () => (await readFile(join(dir.path, "logs.out.log"), "utf8").catch(() => "")).includes("hello"), { what: "stdout in the file" });
    assert.match(await readFile(join(dir.path, "logs.err.log"), "utf8"), /oops/);
    assert.equal(s.status.state, "running");
  });

  it("stops the whole process group, with SIGKILL once SIGTERM has been ignored for the stop timeout", async () => {
    const s = supervisor("stubborn");
    await s.start(spec("stubborn", `trap "" TERM; sleep 60 & sleep 60 & wait`), 500);
    const pgid = s.status.pid!;
    await waitFor(() => liveGroupMembers(pgid).length >= 3, { what: "the shell and its two children" });
    const started = Date.now();
    await s.stop(400);
    assert.ok(Date.now() - started >= 400, "waited for the stop timeout before SIGKILL");
    assert.deepEqual(liveGroupMembers(pgid), []);
    assert.equal(s.status.state, "stopped");
  });

  it("adopts the process a previous agent started instead of starting a second one, and restarts it when it dies", async () => {
    const first = supervisor("adopt");
    const launch = spec("adopt", "exec sleep 60");
    await first.start(launch, 500);
    const pid = first.status.pid!;
    await waitFor(async () => (await readFile(join(dir.path, "adopt.process.json"), "utf8").catch(() => "")).includes(String(pid)), { what: "process.json" });
    first.detach(); // the agent dies; the process lives on

    const second = supervisor("adopt");
    assert.equal(await second.adopt(launch), true);
    assert.equal(second.status.pid, pid);
    assert.equal(second.status.state, "running");
    assert.deepEqual(liveGroupMembers(pid), [pid], "still one process");

    process.kill(pid, "SIGKILL");
    await waitFor(() => second.status.state === "running" && second.status.pid !== pid, { what: "a restart seen by polling" });
    assert.equal(second.status.restarts, 1);
  });

  it("does not adopt a recorded pid that now belongs to another process", async () => {
    const processFile = join(dir.path, "reused.process.json");
    const me = readProcStat(process.pid)!;
    await writeFile(processFile, JSON.stringify({ pid: process.pid, start_time: String(Number(me.startTime) - 1), release_id: "rel_1", version: "1.0.0", started_at: 0 }));
    const s = new Supervisor({ processFile, policy: FAST, now: Date.now, logger: silentLogger(), onChange: () => undefined });
    assert.equal(await s.adopt(spec("reused", "true")), false);
    assert.equal(await s.recordedLiveProcess(), undefined);
  });

  it("does not adopt a process of another release", async () => {
    const first = supervisor("other");
    await first.start(spec("other", "exec sleep 60"), 500);
    first.detach();
    const second = supervisor("other");
    assert.equal(await second.adopt({ ...spec("other", "exec sleep 60"), releaseId: "rel_2" }), false);
    await second.stop(500);
    assert.equal(await second.recordedLiveProcess(), undefined, "stop() also stops the recorded process it did not adopt");
  });
});
