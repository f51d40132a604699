// What the agent knows about processes it did not necessarily start, from Linux's /proc: whether
// a pid is still the same process (its start time, field 22 of /proc/<pid>/stat, differs once the
// pid is reused), whether it is a zombie, and which processes are in a process group. A host's
// PID 1 does not always reap orphans, so "kill(pid, 0) succeeds" is not enough to call it alive.
import { readFileSync, readdirSync } from "node:fs";

export interface ProcStat {
  /** R, S, D, Z, T, ... */
  state: string;
  pgrp: number;
  /** Clock ticks after boot; with the pid, identifies one process for the life of the machine. */
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, , pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { state, pgrp: Number(pgrp), startTime };
}

/** True when `pid` is a live (not zombie) process, and the same one as when `startTime` was read. */
export function isSameLiveProcess(pid: number, startTime: string | null): boolean {
  const stat = readProcStat(pid);
  if (!stat || stat.state === "Z" || stat.state === "X") return false;
  return startTime === null || stat.startTime === startTime;
}

/** The live (not zombie) members of process group `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return probeGroup(pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") members.push(Number(name));
  }
  return members;
}

function probeGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to every process in group `pgid`; false when there was none. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Live processes whose environment holds `name=value` (readable for the agent's own user's
 * processes). The agent marks every service process with SLIPWAY_SERVICE_DIR, so after a crash
 * it finds a service process even if it died before recording its pid.
 */
export function processesWithEnv(name: string, value: string): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: number[] = [];
  for (const entry of names) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`), Buffer.from([0])]);
    } catch {
      continue;
    }
    if (environ.includes(needle) && isSameLiveProcess(Number(entry), null)) found.push(Number(entry));
  }
  return found;
}
