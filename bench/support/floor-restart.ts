// The rollback's floor: what returning every host to a release it already has unpacked costs
// with no orchestration — each host's service stopped (SIGTERM to its process group, waiting
// until it is gone) and started again from its release directory, all hosts at once, until each
// answers its first healthy probe. Slipway's environment rollback does the same work (a symlink
// flip, a stop and a start per host) through the server and the agents.
import { spawn } from "node:child_process";
import { setPriority } from "node:os";
import { untilHealthy } from "./probe.ts";
import { groupPids, isRunning } from "./proc.ts";

export interface RunningService {
  address: string;
  /** The release directory the service runs from. */
  dir: string;
  /** Its process group. */
  pid: number;
}

/** How the services run and are probed (the floor's own options share these). */
export interface RestartOptions {
  port: number;
  start: string;
  healthPath: string;
  intervalMs: number;
  timeoutMs: number;
  /** Niceness of the floor's host processes (and so of the services they start), as the agents get. */
  nice: number;
}

const signal = (pid: number, name: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pid, name);
    return true;
  } catch {
    return false;
  }
};

/**
 * SIGTERM to the process group, SIGKILL after `graceMs`; resolves once none of its processes runs
 * (zombies left for PID 1 to reap have exited: an agent, their parent, would have reaped them).
 */
export async function stopGroup(pid: number, graceMs = 3000): Promise<void> {
  const members = groupPids(new Set([pid]));
  if (!signal(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (members.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (members.some(isRunning)) signal(pid, "SIGKILL");
}

/** Restarts every service at once; the time until the last is healthy, and the new process groups. */
export async function restartServices(services: RunningService[], o: RestartOptions): Promise<{ ms: number; pids: number[] }> {
  const started = performance.now();
  const pids = await Promise.all(
    services.map(async (s) => {
      await stopGroup(s.pid);
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(o.port), HOST: s.address, BIND_ADDRESS: s.address };
      const child = spawn("sh", ["-c", o.start], { cwd: s.dir, env, detached: true, stdio: "ignore" });
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${o.start} on ${s.address}`);
      if (o.nice !== 0) setPriority(child.pid, o.nice);
      await untilHealthy(`http://${s.address}:${o.port}${o.healthPath}`, o.intervalMs, o.timeoutMs, Date.now() + 60_000);
      return child.pid;
    }),
  );
  return { ms: performance.now() - started, pids };
}
