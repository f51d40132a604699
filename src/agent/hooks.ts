// The manifest's hooks (before_switch, after_switch, backup, migrate): shell commands run in the
// release directory with the service's environment and hooks.timeout.
import { runCommand, type CommandResult } from "./command.ts";

export type HookName = "before_switch" | "after_switch" | "backup" | "migrate";

export class HookError extends Error {
  override name = "HookError";
  readonly result: CommandResult;
  /** The failure without the output: "migrate hook failed with exit code 3". */
  readonly summary: string;
  constructor(hook: HookName, result: CommandResult) {
    const how = result.timedOut ? "timed out" : result.signal ? `was killed by ${result.signal}` : `failed with exit code ${result.code}`;
    const tail = result.output.trim().slice(-800);
    super(`${hook} hook ${how}${tail ? `: ${tail}` : ""}`);
    this.summary = `${hook} hook ${how}`;
    this.result = result;
  }
}

export interface HookContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** Runs the hook when the manifest has one; throws a HookError when it fails. */
export async function runHook(hook: HookName, command: string | undefined, context: HookContext): Promise<CommandResult | undefined> {
  if (command === undefined) return undefined;
  const result = await runCommand(command, { cwd: context.cwd, env: context.env, timeoutMs: context.timeoutMs, outputLimit: 19_000 });
  if (!result.ok) throw new HookError(hook, result);
  return result;
}
