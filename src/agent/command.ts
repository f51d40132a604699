// Running a shell command for a hook, a migration or a health check: `sh -c` in its own process
// group (so a timeout kills everything it started), with a deadline, keeping the tail of its
// combined output for the report.
import { spawn } from "node:child_process";
import { signalGroup } from "./proc.ts";

export interface CommandResult {
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last `outputLimit` characters of stdout and stderr, interleaved as they came. */
  output: string;
}

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  outputLimit?: number;
  /** How long after SIGTERM (on timeout) before SIGKILL. */
  killGraceMs?: number;
}

export function runCommand(command: string, options: CommandOptions): Promise<CommandResult> {
  const limit = options.outputLimit ?? 16_000;
  return new Promise((resolve) => {
    let output = "";
    const append = (chunk: Buffer | string) => {
      output += chunk.toString();
      if (output.length > limit * 2) output = output.slice(-limit);
    };
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn("sh", ["-c", command], { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => child.pid && signalGroup(child.pid, "SIGKILL"), options.killGraceMs ?? 5000);
    }, options.timeoutMs);
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      // Whatever the command left running in its group goes with it.
      if (child.pid) signalGroup(child.pid, "SIGKILL");
      if (error) append(`\n${error.message}\n`);
      if (timedOut) append(`\n(timed out after ${options.timeoutMs} ms)\n`);
      resolve({ ok: !timedOut && !error && code === 0, code, signal, timedOut, output: output.slice(-limit) });
    };
    child.once("error", (error) => finish(null, null, error));
    // "close" rather than "exit": the output pipes are drained by then.
    child.once("close", (code, signal) => finish(code, signal));
  });
}
