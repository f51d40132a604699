// Running the system `git`: no shell (arguments are an array, so a branch or a path is never
// parsed by sh), never interactive (a repository that wants a password fails at once instead of
// waiting on a prompt nobody will answer), bounded in time and output, and with errors that say
// which command failed and what git said — with any credential in a URL replaced by `***`.
import { spawn } from "node:child_process";
import { SlipwayError } from "../core/errors.ts";
import { redactCredentials } from "./repository-url.ts";

export interface GitOptions {
  /** Working directory (`git -C` is not used, so relative paths in `args` resolve here). */
  cwd?: string;
  /** Extra environment, on top of this process's and the non-interactive settings. */
  env?: NodeJS.ProcessEnv;
  /** Default 120 s; the process group is SIGKILLed when it is up. */
  timeoutMs?: number;
  /** Default 64 MiB; more output on stdout stops git and fails. */
  maxOutputBytes?: number;
  /** Written to git's stdin (otherwise stdin is empty). */
  input?: string | Buffer;
  /** Exit codes that are answers rather than failures, e.g. 1 for `git diff --quiet`. */
  okCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
const STDERR_KEPT = 16_000;

/** A git command that failed, timed out or said too much. `command` and `stderr` are redacted. */
export class GitError extends SlipwayError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(command: string, detail: { exitCode: number | null; stderr: string; timedOut?: boolean; reason?: string }) {
    const said = detail.stderr.trim();
    const why = detail.reason ?? (detail.exitCode === null ? "was killed" : `exited with code ${detail.exitCode}`);
    // "unavailable": most failures are a repository that cannot be reached or read right now.
    super("unavailable", `${command} ${why}${said ? `: ${said}` : ""}`);
    this.name = "GitError";
    this.command = command;
    this.exitCode = detail.exitCode;
    this.stderr = said;
    this.timedOut = detail.timedOut ?? false;
  }
}

const REPOSITORY_VARIABLES = new Set(["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX"]);

/**
 * The environment every git command runs with. GIT_TERMINAL_PROMPT=0 and empty askpass programs
 * make a missing credential an immediate error; ssh gets BatchMode (no password or host-key
 * questions) unless the operator chose their own ssh with GIT_SSH_COMMAND or GIT_SSH; LC_ALL=C
 * keeps git's messages in English for the logs. git also runs in a session of its own (detached),
 * so it has no terminal to prompt on whatever the environment says.
 */
function gitEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const ownSsh = process.env.GIT_SSH_COMMAND !== undefined || process.env.GIT_SSH !== undefined;
  // Variables that point git at another repository than the one named in the command: set when
  // Slipway itself runs from a git hook (a test suite in pre-push), they would redirect every call.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !REPOSITORY_VARIABLES.has(name)));
  return {
    ...inherited,
    ...(ownSsh ? {} : { GIT_SSH_COMMAND: "ssh -o BatchMode=yes" }),
    ...extra,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LC_ALL: "C",
  };
}

/** Runs `git ...args`; resolves on exit code 0 (or one of `okCodes`), rejects with a GitError. */
export function git(args: string[], options: GitOptions = {}): Promise<GitResult> {
  const command = redactCredentials(`git ${args.join(" ")}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout also stops the helpers git starts (ssh,
    // git-remote-https, upload-pack for local repositories).
    const child = spawn("git", args, { cwd: options.cwd, env: gitEnvironment(options.env), detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    let failure: string | undefined;
    let timedOut = false;

    const stop = (reason: string) => {
      failure ??= reason;
      if (child.pid) killGroup(child.pid);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop(`timed out after ${timeoutMs} ms`);
    }, timeoutMs);

    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutput) return stop(`wrote more than ${maxOutput} bytes`);
      chunks.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.length > STDERR_KEPT * 2) stderr = stderr.slice(-STDERR_KEPT);
    });
    // git may exit before reading all of its input (e.g. on a bad revision); that is not our error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");

    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new GitError(command, { exitCode: null, stderr: "", reason: `could not start: ${error.message}` }));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      const said = redactCredentials(stderr.slice(-STDERR_KEPT));
      if (failure !== undefined) return reject(new GitError(command, { exitCode: code, stderr: said, timedOut, reason: failure }));
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) {
        return resolve({ stdout: Buffer.concat(chunks), stderr: said, code });
      }
      reject(new GitError(command, { exitCode: code, stderr: said }));
    });
  });
}

/** `git ...args` and its stdout as text, without the final newline. */
export async function gitText(args: string[], options: GitOptions = {}): Promise<string> {
  const { stdout } = await git(args, options);
  return stdout.toString("utf8").replace(/\n$/, "");
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
