// Real Slipway servers (and other helper programs) as child processes, for tests and benches
// that must kill -9 them, send them SIGTERM, or keep them off the measuring process's CPU.
//
// A child is started with `--json` and is ready when it has printed its one JSON summary line
// on stdout. Its stderr (the logs) is kept, last lines only, to explain a failure. Every child
// is remembered until it exits, and SIGKILLed when this process exits, so a failing test never
// leaves a server behind; tests should still `kill` theirs in an `after` hook.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildHandle<Summary> {
  /** What the child printed as its first JSON line on stdout. */
  summary: Summary;
  child: ChildProcess;
  /** Resolves when the child has exited, however it did. */
  exited: Promise<Exit>;
  /** Sends `signal` (unless the child is already gone) and resolves with how it exited. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** The last lines the child wrote on stderr, for failure messages. */
  stderrTail(): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous by necessity: the last chance to stop children when a test file fails or is
  // interrupted. SIGKILL because nothing will wait for a graceful shutdown.
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/**
 * Starts `process.execPath args...` and resolves once it prints a JSON line on stdout; rejects
 * (and kills the child) if it exits first or takes longer than `timeoutMs`.
 */
export async function spawnJsonLineProcess<Summary>(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; what?: string } = {}): Promise<ChildHandle<Summary>> {
  installExitHook();
  const what = options.what ?? args.join(" ");
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  const tail: string[] = [];
  createInterface({ input: child.stderr }).on("line", (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  const stderrTail = () => tail.join("\n");

  const kill = async (signal: NodeJS.Signals = "SIGTERM"): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };

  const lines = createInterface({ input: child.stdout });
  const summary = await new Promise<Summary>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${what}: no JSON line on stdout within ${options.timeoutMs ?? 20_000} ms\n${stderrTail()}`)), options.timeoutMs ?? 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      void kill("SIGKILL");
      reject(error);
    };
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Summary);
      } catch (error) {
        fail(new Error(`${what}: unparseable summary line ${JSON.stringify(line)}`, { cause: error }));
      }
    });
    void exited.then((exit) => fail(new Error(`${what}: exited (${exit.signal ?? `code ${exit.code}`}) before printing its summary\n${stderrTail()}`)));
  });
  // Keep draining stdout so that a chatty child never blocks on a full pipe.
  lines.removeAllListeners("line");
  lines.on("line", () => undefined);
  return { summary, child, exited, kill, stderrTail };
}

export interface ServerSummary {
  url: string;
  store: "sqlite" | "postgres";
  location: string;
  admin_token: string | null;
}

export interface ServerProcess extends ChildHandle<ServerSummary> {
  url: string;
  /** The admin token printed on the first start of an empty store; null on later starts. */
  adminToken: string | null;
}

/** `slipway server --json --port 0` on the given store, as a child process. */
export async function startServerProcess(options: { dataDir: string; databaseUrl?: string | undefined; logLevel?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): Promise<ServerProcess> {
  const args = [CLI, "server", "--json", "--port", "0", "--data-dir", options.dataDir, "--log-level", options.logLevel ?? "warn", ...(options.extraArgs ?? [])];
  if (options.databaseUrl) args.push("--database-url", options.databaseUrl);
  // The server reads SLIPWAY_* variables too; keep the caller's environment from leaking in.
  const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter(([key]) => !key.startsWith("SLIPWAY_")));
  const handle = await spawnJsonLineProcess<ServerSummary>(args, { env, what: "slipway server" });
  const port = Number(new URL(handle.summary.url).port);
  if (!Number.isInteger(port) || port <= 0) {
    await handle.kill("SIGKILL");
    throw new Error(`slipway server printed url ${handle.summary.url}, not one with the port it listens on`);
  }
  return { ...handle, url: handle.summary.url, adminToken: handle.summary.admin_token };
}
