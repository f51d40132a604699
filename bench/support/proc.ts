// What a process costs, read from Linux's /proc: resident memory (VmRSS now, VmHWM the peak
// since it started) and CPU time (user + system, this process only, not its children).
import { readFileSync, readdirSync } from "node:fs";

export interface Memory {
  rssKb: number;
  /** The anonymous part of RSS: what this process alone holds (the rest, RssFile, is mostly the node binary, shared by every node process). */
  anonKb: number;
  peakKb: number;
}

/** VmRSS, RssAnon and VmHWM of `pid` in kB, or undefined when the process is gone. */
export function memoryOf(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKb: field("VmRSS"), anonKb: field("RssAnon"), peakKb: field("VmHWM") };
}

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux in practice. */
const TICKS_PER_SECOND = 100;

/** User + system CPU milliseconds `pid` has used so far, or 0 when it is gone. */
export function cpuMsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces, inside parentheses): state is field 3,
  // utime and stime fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The live processes of these process groups, with their group, parsed from /proc/<pid>/stat. */
function groupMembers(pgids: ReadonlySet<number>): { pid: number; pgid: number; cpuMs: number }[] {
  const members = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // pgrp is field 5: index 2 after state (field 3).
    const pgid = Number(fields[2]);
    if (pgids.has(pgid)) members.push({ pid: Number(name), pgid, cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND });
  }
  return members;
}

/** The pids of the processes in these process groups now. */
export function groupPids(pgids: ReadonlySet<number>): number[] {
  return groupMembers(pgids).map((m) => m.pid);
}

/**
 * Whether the process still runs: it exists and is not a zombie. A process whose parent is gone
 * waits as a zombie until PID 1 reaps it, which in a container can take a while: it has exited.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** User + system CPU milliseconds used so far by every live process in these process groups. */
export function groupsCpuMs(pgids: ReadonlySet<number>): number {
  return groupMembers(pgids).reduce((total, member) => total + member.cpuMs, 0);
}

/** Per process group, the memory of all its live processes added up. */
export function groupsMemory(pgids: ReadonlySet<number>): Memory[] {
  const byGroup = new Map<number, Memory>();
  for (const member of groupMembers(pgids)) {
    const memory = memoryOf(member.pid);
    if (!memory) continue;
    const sum = byGroup.get(member.pgid) ?? { rssKb: 0, anonKb: 0, peakKb: 0 };
    byGroup.set(member.pgid, { rssKb: sum.rssKb + memory.rssKb, anonKb: sum.anonKb + memory.anonKb, peakKb: sum.peakKb + memory.peakKb });
  }
  return [...byGroup.values()];
}

export interface MemorySpread {
  rssMb: Spread;
  anonMb: Spread;
  peakMb: Spread;
}

export function memorySpread(memories: (Memory | undefined)[]): MemorySpread {
  const mb = (f: (m: Memory) => number) => spread(memories.map((m) => (m ? f(m) / 1024 : NaN)));
  return { rssMb: mb((m) => m.rssKb), anonMb: mb((m) => m.anonKb), peakMb: mb((m) => m.peakKb) };
}

export interface Spread {
  min: number;
  median: number;
  max: number;
  count: number;
}

export function spread(values: number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: NaN, median: NaN, max: NaN, count: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, count: sorted.length };
}
