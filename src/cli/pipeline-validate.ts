// `slipway pipeline validate [FILE]`: checks a slipway.yaml locally, with no server: the schema,
// the job graph and the templates, every error as `file:line:col field: message`. A valid file
// gets a summary of its jobs in the order they can run.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { invalidInput } from "../core/errors.ts";
import { formatDuration } from "../core/manifest/duration.ts";
import { parseSlipwayFile } from "../core/manifest/parse.ts";
import { topologicalOrder } from "../core/pipeline/dag.ts";
import type { Pipeline, Triggers } from "../core/pipeline/schema.ts";
import { nextCronTime } from "../core/pipeline/triggers.ts";
import { JSON_FLAG_HELP, emit, renderTable, shortTime } from "./output.ts";

export interface JobSummary {
  id: string;
  needs: string[];
  shards: number;
  runs_on: string[];
  steps: number;
  tests: boolean;
  /** The version template, when the job packages the release. */
  package: string | null;
  timeout: string;
}

export interface ValidationSummary {
  file: string;
  /** Whether the file says how the service runs (a release of it can be deployed). */
  runtime: boolean;
  /** In an order where every job comes after the jobs it needs. */
  jobs: JobSummary[];
  on: Triggers | null;
  /** The next time each schedule fires, in the order of `on.schedule`. */
  next_scheduled: string[];
}

const labelsOf = (runsOn: Pipeline["jobs"][string]["runs_on"]): string[] =>
  runsOn === undefined ? [] : typeof runsOn === "string" ? [runsOn] : Array.isArray(runsOn) ? runsOn : Object.entries(runsOn).map(([k, v]) => `${k}=${v}`);

export function summarize(file: string, text: string, now: number): ValidationSummary {
  const { manifest, pipeline } = parseSlipwayFile(text, file);
  const jobs = pipeline ? topologicalOrder(pipeline.jobs).map((id) => summarizeJob(id, pipeline.jobs[id]!)) : [];
  const next = (pipeline?.on.schedule ?? []).map((s) => nextCronTime(s.cron, now, s.timezone));
  return {
    file,
    runtime: manifest !== undefined,
    jobs,
    on: pipeline?.on ?? null,
    next_scheduled: next.map((ms) => (ms === undefined ? "never" : new Date(ms).toISOString())),
  };
}

function summarizeJob(id: string, job: Pipeline["jobs"][string]): JobSummary {
  return {
    id,
    needs: job.needs,
    shards: job.parallelism,
    runs_on: labelsOf(job.runs_on),
    steps: job.steps.length,
    tests: job.tests !== undefined,
    package: job.package?.version ?? null,
    timeout: formatDuration(job.timeout),
  };
}

function describeTriggers(on: Triggers, next: string[]): string[] {
  const lines = [`push:      ${on.push ? on.push.branches.join(", ") : "off"}${on.push && on.supersede ? " (a newer push supersedes queued runs)" : ""}`];
  lines.push(`manual:    ${on.manual ? "yes" : "no"}`);
  on.schedule.forEach((s, i) => lines.push(`schedule:  ${s.cron} (${s.timezone ?? "UTC"})${s.branch ? ` on ${s.branch}` : ""}, next ${shortTime(next[i])}`));
  return lines;
}

export function describeSummary(summary: ValidationSummary): string {
  const parts = [`${summary.file} is valid.`];
  if (!summary.runtime) parts.push("It has no run section: releases of it can not be deployed until it does.");
  if (summary.jobs.length === 0) return [...parts, "It defines no pipeline (no jobs)."].join("\n");
  parts.push(
    "",
    renderTable(summary.jobs, [
      { header: "JOB", value: (j) => j.id },
      { header: "NEEDS", value: (j) => j.needs.join(", ") || "-" },
      { header: "SHARDS", value: (j) => String(j.shards) },
      { header: "RUNS ON", value: (j) => j.runs_on.join(", ") || "any runner" },
      { header: "TIMEOUT", value: (j) => j.timeout },
      { header: "DOES", value: (j) => [j.steps ? `${j.steps} step${j.steps === 1 ? "" : "s"}` : "", j.tests ? "tests" : "", j.package ? `package ${j.package}` : ""].filter(Boolean).join(", ") },
    ]),
  );
  if (summary.on) parts.push("", ...describeTriggers(summary.on, summary.next_scheduled));
  return parts.join("\n");
}

export function registerPipelineValidateCommand(pipeline: Command): void {
  pipeline
    .command("validate")
    .description("check a slipway.yaml locally: schema, job graph, templates; errors name the line")
    .argument("[file]", "the file to check", "slipway.yaml")
    .option("--json", JSON_FLAG_HELP)
    .action(async (file: string, _options: unknown, command: Command) => {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw invalidInput(`cannot read ${file}: ${(error as Error).message}`, [{ field: file, message: "must be a readable file" }]);
      }
      emit(command, summarize(file, text, Date.now()), describeSummary);
    });
}
