// Running one command of a job (a step's `run`, the tests command) in a shell, in a process group
// of its own, with its output turned into masked log lines as it comes.
//
// The shell is `bash --noprofile --norc -eo pipefail -c <run>` when bash is installed, else
// `sh -e -c <run>`: a multi-line `run` stops at its first failing command, and a pipeline fails
// when any part of it fails (with bash), as in GitHub Actions. Neither reads a profile, so what a
// step sees is what the job's env says.
//
// A timeout or an abort (the job was cancelled, timed out, or the runner is stopping) sends
// SIGTERM to the whole group, then SIGKILL after `killGraceMs`. A command that exits normally
// leaves behind whatever it started in the background (a server a later step talks to): the
// job kills those groups when it ends (see ProcessGroups). The command is over when its shell
// exits; output still coming from its background processes keeps being read and shipped.
import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, join } from "node:path";
import type { Readable } from "node:stream";
import { liveGroupMembers, processesWithEnv, signalGroup } from "../proc.ts";
import { OutputLines } from "./output.ts";

export type OutputStream = "stdout" | "stderr";

/** Receives each masked line; a returned promise pauses the reading until it resolves. */
export type LineSink = (stream: OutputStream, text: string) => Promise<void> | undefined;

export interface ShellCommand {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Aborting it stops the command (SIGTERM, then SIGKILL). */
  signal: AbortSignal;
  secrets: readonly string[];
  onLine: LineSink;
  killGraceMs?: number;
  /** How long after the shell's exit its output may take to end before it is read in the background. */
  outputSettleMs?: number;
}

export interface ShellResult {
  /** The exit code, 128 + the signal's number when a signal ended the shell, null when it never started. */
  exitCode: number | null;
  timedOut: boolean;
  /** Stopped because `signal` aborted. */
  aborted: boolean;
  /** Why the command could not start. */
  error: string | null;
  /** The process group, still holding whatever the command left running. */
  pgid: number | null;
  /** Resolves once the command's output has ended (right away unless background processes hold it). */
  output: Promise<void>;
  /** Stops reading the output (for when background processes outlive the job). */
  closeOutput: () => void;
  /** When spawn() was called for it and when its exit was seen: epoch ms, sub-ms precise; null when it never started. */
  startedAt: number | null;
  exitedAt: number | null;
}

/** Epoch milliseconds with the monotonic clock's precision (Date.now() has only whole ms). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

let shellPrefix: string[] | undefined;

/** The longest delay setTimeout takes (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The shell and its flags, before the command (see the header). */
export function shellFor(path = process.env.PATH ?? ""): string[] {
  const bash = path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, "bash"))
    .find((candidate) => {
      try {
        accessSync(candidate, fsConstants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return bash ? [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c"] : ["/bin/sh", "-e", "-c"];
}

export function runShell(options: ShellCommand): Promise<ShellResult> {
  shellPrefix ??= shellFor();
  const [shell = "/bin/sh", ...flags] = shellPrefix;
  const killGraceMs = options.killGraceMs ?? 5000;
  return new Promise((resolve) => {
    const spawnedAt = preciseNow();
    const child = spawn(shell, [...flags, options.command], { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const startedAt = child.pid === undefined ? null : spawnedAt;
    const pgid = child.pid ?? null;
    const output = Promise.all([readLines(child.stdout, "stdout", options), readLines(child.stderr, "stderr", options)]).then(() => undefined);
    const closeOutput = () => (child.stdout.destroy(), child.stderr.destroy());
    let timedOut = false;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (stopping || pgid === null) return;
      stopping = true;
      signalGroup(pgid, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(pgid, "SIGKILL"), killGraceMs);
    };
    const timer = setTimeout(() => ((timedOut = true), stop()), Math.min(options.timeoutMs, MAX_TIMER_MS));
    const onAbort = () => stop();
    options.signal.addEventListener("abort", onAbort, { once: true });
    if (options.signal.aborted) stop();

    let settled = false;
    const finish = async (exitCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      const exitedAt = error === null ? preciseNow() : null;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      if (stopping && pgid !== null) {
        // A stopped command takes everything it started with it, at once.
        clearTimeout(killTimer);
        signalGroup(pgid, "SIGKILL");
      }
      if (error) closeOutput();
      await Promise.race([output, new Promise((ready) => setTimeout(ready, options.outputSettleMs ?? 1000).unref())]);
      resolve({ exitCode, timedOut, aborted: stopping && !timedOut, error, pgid, output, closeOutput, startedAt: error === null ? startedAt : null, exitedAt });
    };
    child.once("error", (error) => void finish(null, `could not start ${shell}: ${error.message}`));
    child.once("exit", (code, signal) => void finish(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0), null));
  });
}

/** Whether any process (a zombie included) is still in group `pgid`. */
function groupHasProcesses(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readLines(stream: Readable, name: OutputStream, options: Pick<ShellCommand, "secrets" | "onLine">): Promise<void> {
  const lines = new OutputLines(options.secrets);
  try {
    for await (const chunk of stream) {
      for (const line of lines.push(chunk as Buffer)) await options.onLine(name, line);
    }
  } catch {
    // The stream was destroyed (the job ended while a background process held it).
  }
  for (const line of lines.end()) await options.onLine(name, line);
}

/**
 * Kills what a job's commands left running once the job is over: every process whose environment
 * carries the job's marker (`name=value`, SLIPWAY_JOB_ID: this also finds a process that left its
 * group), and the whole group of each command that still has such a process in it. Groups are
 * checked against the marker first, so that a process group id reused by another program since
 * is never signalled. Then stops reading output that did not end with its processes.
 */
export async function reapProcesses(marker: { name: string; value: string }, commands: readonly ShellResult[], settleMs = 2000): Promise<void> {
  const marked = new Set(processesWithEnv(marker.name, marker.value));
  for (const command of commands) {
    // A group with no process left (signal 0 says so without reading /proc) is the usual case.
    if (command.pgid === null || !groupHasProcesses(command.pgid)) continue;
    if (liveGroupMembers(command.pgid).some((pid) => marked.has(pid))) signalGroup(command.pgid, "SIGKILL");
  }
  for (const pid of marked) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await Promise.race([Promise.all(commands.map((c) => c.output)), new Promise((ready) => setTimeout(ready, settleMs).unref())]);
  for (const command of commands) command.closeOutput();
}
