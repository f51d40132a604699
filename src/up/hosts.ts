// The local hosts of `slipway up`: real `slipway agent` child processes, each with its own data
// dir under <data-dir>/hosts/<name> and its own loopback address (127.0.0.2, 127.0.0.3, ...; on
// Linux all of 127.0.0.0/8 is local), so every host's services can use the port their
// slipway.yaml names. Where a second loopback address cannot be bound, every host shares
// 127.0.0.1 and gets its own PORT in its environment instead (see docs/deployments.md).
// The local runners are agents too (--runner-only, data dirs under <data-dir>/runners/<name>),
// started and stopped the same way.
//
// An agent that exits while `up` runs is started again (1 s, doubling to 30 s; a minute up
// starts the count over). Stopping sends SIGTERM: agents run with --stop-services-on-exit,
// so their services stop with them.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { isSameLiveProcess } from "../agent/proc.ts";

/** The CLI entry point next to this module: main.ts from the sources, main.js once compiled. */
export const CLI_ENTRY = fileURLToPath(new URL(`../cli/main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));

export interface HostPlan {
  name: string;
  address: string;
  labels: Record<string, string>;
  dataDir: string;
  /** Extra environment for the agent (and so its services): PORT where hosts share an address. */
  env: Record<string, string>;
  /** A runner-only agent: it runs pipeline jobs and is no deployment target. */
  runner: boolean;
}

/** Whether this machine lets a process bind `address` (127.0.0.2 on Linux: yes). */
export function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` hosts: the first third (at least one) labelled env=staging, the rest env=production,
 * alternately in region eu and us; all role=web.
 */
export function planHosts(count: number, dataDir: string, options: { sharedAddress: boolean; basePort: number }): HostPlan[] {
  const staging = Math.max(1, Math.floor(count / 3));
  return Array.from({ length: count }, (_, i): HostPlan => {
    const name = `local-${i + 1}`;
    return {
      name,
      address: options.sharedAddress ? "127.0.0.1" : `127.0.0.${i + 2}`,
      labels: { role: "web", env: i < staging ? "staging" : "production", region: i % 2 === 0 ? "eu" : "us" },
      dataDir: join(dataDir, "hosts", name),
      env: options.sharedAddress ? { PORT: String(options.basePort + i) } : {},
      runner: false,
    };
  });
}

/** `count` runner-only agents, runner-1..n, labelled role=runner; each runs one job at a time. */
export function planRunners(count: number, dataDir: string): HostPlan[] {
  return Array.from({ length: count }, (_, i): HostPlan => {
    const name = `runner-${i + 1}`;
    return { name, address: "127.0.0.1", labels: { role: "runner" }, dataDir: join(dataDir, "runners", name), env: {}, runner: true };
  });
}

/** Where a host's services answer: its address, and its port where hosts share an address. */
export const hostUrl = (host: HostPlan, port: number): string => `http://${host.address}:${host.env.PORT ?? port}`;

interface Running {
  plan: HostPlan;
  child: ChildProcess | undefined;
  hostId: string | undefined;
  exited: Promise<void>;
  restarts: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
}

const Lock = z.object({ pid: z.number().int(), start_time: z.string().nullable() });

export class LocalHosts {
  readonly #server: string;
  readonly #token: string;
  readonly #logDir: string;
  readonly #say: (line: string) => void;
  readonly #hosts: Running[];
  #stopping = false;

  constructor(options: { server: string; agentToken: string; plans: HostPlan[]; logDir: string; say: (line: string) => void }) {
    this.#server = options.server;
    this.#token = options.agentToken;
    this.#logDir = options.logDir;
    this.#say = options.say;
    this.#hosts = options.plans.map((plan) => ({ plan, child: undefined, hostId: undefined, exited: Promise.resolve(), restarts: 0, startedAt: 0, timer: undefined, lastError: undefined }));
  }

  get plans(): HostPlan[] {
    return this.#hosts.map((h) => h.plan);
  }

  /** Starts every agent; resolves once each has registered with the server. */
  async start(timeoutMs = 60_000): Promise<void> {
    await mkdir(this.#logDir, { recursive: true });
    await Promise.all(this.#hosts.map((h) => this.#stopOrphan(h.plan)));
    await Promise.all(this.#hosts.map((h) => this.#spawn(h, timeoutMs)));
  }

  /**
   * An agent of an earlier `up` that was killed without stopping its children still holds the
   * host's data dir. It is ours (it lives in our data dir): kill it, -9 so that its services keep
   * running and the new agent adopts them (the agent is built to survive kill -9) instead of
   * stopping them.
   */
  async #stopOrphan(plan: HostPlan): Promise<void> {
    const lock = Lock.safeParse(JSON.parse(await readFile(join(plan.dataDir, "agent.lock"), "utf8").catch(() => "null"))).data;
    if (!lock || !isSameLiveProcess(lock.pid, lock.start_time)) return;
    this.#say(`Replacing agent pid ${lock.pid}, left running on ${plan.name}'s data dir by an earlier slipway up; its services are adopted.`);
    process.kill(lock.pid, "SIGKILL");
    const deadline = Date.now() + 10_000;
    while (isSameLiveProcess(lock.pid, lock.start_time) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  #spawn(host: Running, timeoutMs: number): Promise<void> {
    const { plan } = host;
    // `node` in a service's start command or a pipeline step is the Node that runs Slipway, ahead
    // of whatever older one the PATH names first.
    const path = [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter);
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_"))), PATH: path, ...plan.env, SLIPWAY_TOKEN: this.#token };
    const labels = Object.entries(plan.labels).map(([k, v]) => `${k}=${v}`).join(",");
    // A smaller young generation: an agent needs ~30 MB less this way (docs/agent.md).
    const args = ["--max-semi-space-size=1", CLI_ENTRY, "agent", "--server", this.#server, "--name", plan.name, "--labels", labels, "--address", plan.address, "--data-dir", plan.dataDir, "--stop-services-on-exit", "--json"];
    if (plan.runner) args.push("--runner-only");
    const log = createWriteStream(join(this.#logDir, `${plan.name}.log`), { flags: "a" });
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    host.child = child;
    host.startedAt = Date.now();
    host.hostId = undefined;
    // The agent's own logs (JSON lines) go to its log file; a refusal ("error: ...") is kept to say why it stopped.
    createInterface({ input: child.stderr })
      .on("line", (line) => {
        log.write(line + "\n");
        if (line.startsWith("error:")) host.lastError = line.slice(6).trim();
      })
      .on("close", () => log.end());
    host.exited = new Promise((resolve) => child.once("exit", (code, signal) => {
      host.child = undefined;
      if (!this.#stopping) this.#restartLater(host, signal ?? `code ${code}`);
      resolve();
    }));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${plan.name} did not register within ${timeoutMs / 1000} s (see ${join(this.#logDir, `${plan.name}.log`)})`)), timeoutMs);
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => {
        const summary = z.object({ host_id: z.string() }).safeParse(JSON.parse(line.startsWith("{") ? line : "null"));
        if (!summary.success || host.hostId) return;
        host.hostId = summary.data.host_id;
        clearTimeout(timer);
        resolve();
      });
      void host.exited.then(() => {
        clearTimeout(timer);
        if (!host.hostId) reject(new Error(`agent ${plan.name} exited before registering${host.lastError ? `: ${host.lastError}` : ""} (see ${join(this.#logDir, `${plan.name}.log`)})`));
      });
    });
  }

  #restartLater(host: Running, how: string): void {
    // A minute up starts the count over; otherwise 1 s, doubling, up to 30 s.
    if (Date.now() - host.startedAt > 60_000) host.restarts = 0;
    const delay = Math.min(30_000, 1000 * 2 ** host.restarts);
    host.restarts++;
    this.#say(`Agent ${host.plan.name} exited (${how})${host.lastError ? `: ${host.lastError}` : ""}; starting it again in ${delay / 1000} s.`);
    host.timer = setTimeout(() => {
      host.timer = undefined;
      if (this.#stopping) return;
      this.#spawn(host, 60_000).catch((error: unknown) => this.#say(`Agent ${host.plan.name}: ${(error as Error).message}`));
    }, delay);
  }

  /** SIGTERM to every agent (they stop their services first); SIGKILL to any still there after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    this.#stopping = true;
    for (const host of this.#hosts) clearTimeout(host.timer);
    const running = this.#hosts.filter((h) => h.child);
    for (const host of running) host.child?.kill("SIGTERM");
    const all = Promise.all(running.map((h) => h.exited));
    const timer = setTimeout(() => {
      for (const host of running) host.child?.kill("SIGKILL");
    }, graceMs);
    await all;
    clearTimeout(timer);
  }

  /** Kills every agent at once (a second Ctrl-C). */
  kill(): void {
    this.#stopping = true;
    for (const host of this.#hosts) host.child?.kill("SIGKILL");
  }
}
