// Planning a deployment as stages: the waves and canary steps it goes through, each switching
// some hosts (in batches no larger than max_unavailable allows) and then, optionally, analyzing
// them against the hosts still on the previous release before the next stage starts.
//
//   rolling / all_at_once            one stage: every batch
//   ... with regions [a, b]           a stage per region, in that order; wave_analyze between them
//   canary, steps [1 host 2m, 25% 5m, pause, 100%], regions [a, b]
//                                     canary 1 host of a (analyze 2m) -> 25% of a (analyze 5m)
//                                     -> pause -> rest of a -> wave_analyze -> region b -> bake
//
// Hosts of regions the list does not name come last, a wave per region; without regions every
// host is in one wave.
import { formatDuration } from "../manifest/duration.ts";
import type { CanaryStep, RolloutSettings } from "../manifest/schema.ts";
import { batchSizeFor } from "./plan.ts";
import { isTerminal, type DeploymentState, type Progress } from "./types.ts";

export interface Stage {
  /** What people read: "canary: 1 host", "25% of eu-west", "region us-east", "pause", "bake". */
  label: string;
  /** The stage's batches: [from, to) into Progress.batches; from === to for a pause or the bake. */
  from: number;
  to: number;
  /** Analysis after its hosts are healthy, in ms; 0 for none. */
  analyze: number;
  /** A pause step: a time in ms, or null to wait until a person resumes. Absent otherwise. */
  pause?: number | null;
}

export interface StagePlan {
  batches: string[][];
  stages: Stage[];
}

export interface PlannedHost {
  id: string;
  region?: string | undefined;
}

type Settings = Pick<RolloutSettings, "strategy" | "batch_size" | "max_unavailable"> & Partial<Pick<RolloutSettings, "canary" | "regions" | "wave_analyze">>;

/** The hosts (in rollout order) as waves: one per region, in the order `regions` names them. */
export function wavesOf(hosts: readonly PlannedHost[], regions: readonly string[]): { region: string | null; hosts: string[] }[] {
  if (regions.length === 0) return hosts.length ? [{ region: null, hosts: hosts.map((h) => h.id) }] : [];
  const byRegion = new Map<string, string[]>();
  for (const host of hosts) {
    const region = host.region ?? "";
    byRegion.set(region, [...(byRegion.get(region) ?? []), host.id]);
  }
  const named = regions.filter((r) => byRegion.has(r));
  const others = [...byRegion.keys()].filter((r) => !regions.includes(r)).sort();
  return [...named, ...others].map((region) => ({ region: region || "(no region)", hosts: byRegion.get(region)! }));
}

/** A canary step's cumulative target among `size` hosts: at least 1, at most all. */
export function stepTarget(step: Pick<CanaryStep, "hosts" | "percent">, size: number): number {
  const wanted = step.hosts ?? Math.ceil((size * (step.percent ?? 100)) / 100);
  return Math.max(1, Math.min(size, wanted));
}

export function planStages(hosts: readonly PlannedHost[], settings: Settings, kind: "deploy" | "rollback" = "deploy"): StagePlan {
  const total = hosts.length;
  const size = batchSizeFor(settings.strategy === "canary" ? { ...settings, strategy: "rolling" } : settings, total);
  const batches: string[][] = [];
  const stages: Stage[] = [];
  const addSwitch = (label: string, ids: string[], analyze: number) => {
    if (ids.length === 0) return;
    const from = batches.length;
    for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
    stages.push({ label, from, to: batches.length, analyze });
  };
  const waves = kind === "rollback" ? wavesOf(hosts, []) : wavesOf(hosts, settings.regions ?? []);
  const waveAnalyze = settings.wave_analyze ?? 0;
  waves.forEach((wave, index) => {
    const last = index === waves.length - 1;
    const where = wave.region === null ? "" : ` of ${wave.region}`;
    if (index === 0 && settings.strategy === "canary" && kind === "deploy" && settings.canary) {
      let done = 0;
      for (const step of settings.canary.steps) {
        if (step.pause !== undefined) {
          const at = batches.length;
          stages.push({ label: step.pause === "until_resumed" ? "pause until resumed" : `pause ${formatDuration(step.pause)}`, from: at, to: at, analyze: 0, pause: step.pause === "until_resumed" ? null : step.pause });
          continue;
        }
        const target = stepTarget(step, wave.hosts.length);
        if (target <= done) continue;
        const label = target === wave.hosts.length ? `all${where || " hosts"}` : step.hosts !== undefined ? `canary: ${target} host${target === 1 ? "" : "s"}${where}` : `canary: ${step.percent}%${where} (${target} host${target === 1 ? "" : "s"})`;
        addSwitch(label, wave.hosts.slice(done, target), step.analyze ?? 0);
        done = target;
      }
      addSwitch(`the rest${where || " of the hosts"}`, wave.hosts.slice(done), 0);
    } else {
      addSwitch(wave.region === null ? "all hosts" : `region ${wave.region}`, wave.hosts, 0);
    }
    // Between waves, the wave just done is judged before the next starts.
    const stage = stages.at(-1);
    if (!last && stage && stage.to > stage.from && waveAnalyze > 0) stage.analyze = Math.max(stage.analyze, waveAnalyze);
  });
  // Trailing pauses would hold a finished deployment: drop them.
  while (stages.length && stages.at(-1)!.pause !== undefined) stages.pop();
  const bake = settings.strategy === "canary" && kind === "deploy" ? (settings.canary?.bake ?? 0) : 0;
  if (bake > 0 && batches.length > 0) stages.push({ label: `bake ${formatDuration(bake)}`, from: batches.length, to: batches.length, analyze: bake });
  return { batches, stages };
}

/** A deployment's stages; one planned before stages existed has one stage of every batch. */
export const stagesOf = (progress: Pick<Progress, "stages" | "batches">): Stage[] => progress.stages ?? [{ label: "all hosts", from: 0, to: progress.batches.length, analyze: 0 }];

export type StageStatus = "pending" | "switching" | "analyzing" | "holding" | "paused" | "done" | "failed" | "skipped";

/** Where each stage stands, for people: done, the one in progress (and how), pending or skipped. */
export function stageStatuses(stages: readonly Stage[], progress: Pick<Progress, "stage" | "phase">, state: DeploymentState): StageStatus[] {
  const current = progress.stage ?? 0;
  const ended = isTerminal(state);
  return stages.map((_, i) => {
    if (i < current || state === "succeeded") return "done";
    if (i > current) return ended ? "skipped" : "pending";
    if (state === "paused") return "paused";
    if (ended || state === "rolling_back") return "failed";
    return progress.phase === "analyzing" ? "analyzing" : progress.phase === "holding" ? "holding" : "switching";
  });
}
