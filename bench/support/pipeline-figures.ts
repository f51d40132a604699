// The figures of bench/pipeline.ts: the bare spawn it compares a step's overhead with, the gaps
// between steps as the runner saw them, and what the store says about a batch of runs.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Store } from "../../src/store/connection.ts";
import { preciseNow, shellFor } from "../../src/agent/runner/shell.ts";
import type { RunnerRecord } from "./pipeline-fixture.ts";

export interface Quantiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export function quantiles(values: readonly number[]): Quantiles {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const mean = sorted.length === 0 ? NaN : sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), mean };
}

/**
 * `count` bare spawns of `command` through the shell the runner uses, with its flags, in a process
 * group of their own and with piped output, as the runner spawns a step: the time from calling
 * spawn() to the child's exit event, one after the other.
 */
export async function bareSpawns(command: string, count: number, env: NodeJS.ProcessEnv): Promise<number[]> {
  const [shell = "/bin/sh", ...flags] = shellFor(env.PATH);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = preciseNow();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(shell, [...flags, command], { cwd: process.cwd(), env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.resume();
      child.stderr.resume();
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
    });
    times.push(preciseNow() - started);
  }
  return times;
}

/** From one step's exit to the next step's spawn, for every pair of consecutive steps of each job. */
export function stepGaps(records: readonly RunnerRecord[]): { gaps: number[]; commands: number[] } {
  const byJob = new Map<string, RunnerRecord[]>();
  for (const record of records) {
    if (record.msg !== "command exited" || !record.job_id) continue;
    byJob.set(record.job_id, [...(byJob.get(record.job_id) ?? []), record]);
  }
  const gaps: number[] = [];
  const commands: number[] = [];
  for (const steps of byJob.values()) {
    steps.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
    for (const [i, step] of steps.entries()) {
      if (step.started_at != null && step.exited_at != null) commands.push(step.exited_at - step.started_at);
      const next = steps[i + 1];
      if (next?.started_at != null && step.exited_at != null) gaps.push(next.started_at - step.exited_at);
    }
  }
  return { gaps, commands };
}

/** Per phase, the runner's "job timings" of these jobs. */
export function phaseQuantiles(records: readonly RunnerRecord[], jobIds?: ReadonlySet<string>): Map<string, Quantiles> {
  const values = new Map<string, number[]>();
  for (const record of records) {
    if (record.msg !== "job timings" || !record.phases_ms || (jobIds && !jobIds.has(record.job_id ?? ""))) continue;
    for (const [phase, ms] of Object.entries(record.phases_ms)) values.set(phase, [...(values.get(phase) ?? []), ms]);
  }
  return new Map([...values].map(([phase, list]) => [phase, quantiles(list)]));
}

export interface RunTimes {
  id: string;
  state: string;
  created: number;
  finished: number | null;
  /** The run's (only) job: queued by the controller, claimed by a runner, finished by it. */
  jobQueued: number | null;
  jobClaimed: number | null;
  jobFinished: number | null;
  jobId: string | null;
}

/** How many of these runs have not finished yet. */
export async function unfinishedCount(store: Store, ids: readonly string[]): Promise<number> {
  let left = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const row = await store.db.selectFrom("pipeline_runs").select((eb) => eb.fn.countAll<number>().as("n")).where("id", "in", ids.slice(i, i + 500)).where("state", "in", ["queued", "running"]).executeTakeFirstOrThrow();
    left += Number(row.n);
  }
  return left;
}

/** The timestamps the store kept for each run and its first job. */
export async function runTimes(store: Store, ids: readonly string[]): Promise<RunTimes[]> {
  const out: RunTimes[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const runs = await store.db.selectFrom("pipeline_runs").select(["id", "state", "created_at", "finished_at"]).where("id", "in", chunk).execute();
    const jobs = await store.db.selectFrom("pipeline_jobs").select(["id", "run_id", "queued_at", "claimed_at", "finished_at"]).where("run_id", "in", chunk).execute();
    const jobOf = new Map(jobs.map((j) => [j.run_id, j]));
    for (const run of runs) {
      const job = jobOf.get(run.id);
      out.push({
        id: run.id,
        state: run.state,
        created: Number(run.created_at),
        finished: run.finished_at === null ? null : Number(run.finished_at),
        jobQueued: job?.queued_at == null ? null : Number(job.queued_at),
        jobClaimed: job?.claimed_at == null ? null : Number(job.claimed_at),
        jobFinished: job?.finished_at == null ? null : Number(job.finished_at),
        jobId: job?.id ?? null,
      });
    }
  }
  return out;
}

/**
 * CPU milliseconds (user + system) of `pid` so far, and of its children it has waited for (the
 * git processes a server or runner ran; the steps' shells), from /proc/<pid>/stat; 0 when gone.
 */
export function cpuMs(pid: number): { own: number; children: number } {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return { own: 0, children: 0 };
  }
  // After the command name: state is field 3; utime, stime, cutime, cstime are fields 14 to 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const ticks = (i: number) => ((fields[i] ?? 0) * 1000) / 100;
  return { own: ticks(11) + ticks(12), children: ticks(13) + ticks(14) };
}
