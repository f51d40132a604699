// Runs the `slipway` CLI as a real child process and collects what it printed and how it exited.
// The caller's SLIPWAY_* variables are left out, so a developer's own login never leaks into a
// test; a test passes the ones it means (SLIPWAY_CONFIG_DIR, SLIPWAY_SERVER, ...) in `env`.
import { spawn } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runSlipway(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_")));
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...inherited, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
