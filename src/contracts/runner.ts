// The runner protocol: what `slipway agent --runner` and the server say to each other. A runner
// long-polls for a job whose labels it matches; the claim is atomic, so two runners never get
// the same job. While it works it posts status (also its heartbeat for the job) and log lines;
// the answer tells it when the job was cancelled. It finishes with the outcome, the test reports
// it parsed, and the artifacts it uploaded.
//
//   POST /api/v1/runner/claim             RunnerClaim   -> { job: RunnerJob | null }   (long-poll)
//   POST /api/v1/runner/jobs/:id/status   JobStatus     -> JobAck
//   POST /api/v1/runner/jobs/:id/logs     JobLogs       -> JobAck
//   POST /api/v1/runner/jobs/:id/finish   JobFinish     -> JobAck
//   PUT  /api/v1/artifacts                (bytes)       -> Artifact            (kept paths, the release tarball)
//   GET  /api/v1/artifacts/:sha256                      -> bytes               (the needs' kept paths)
import { z } from "zod";
import { Sha256 } from "./common.ts";
import { StepStatus } from "./pipelines.ts";

export const RunnerClaim = z.strictObject({
  host_id: z.string(),
  wait_ms: z.number().int().min(0).max(60_000).default(25_000),
});

export const RunnerStep = z.object({
  name: z.string(),
  run: z.string(),
  env: z.record(z.string(), z.string()),
  timeout_ms: z.number().int(),
  working_directory: z.string().nullable(),
});
export type RunnerStep = z.infer<typeof RunnerStep>;

export const RunnerTests = z.object({
  command: z.string().describe("with {files} in it"),
  files: z.array(z.string()).describe("this shard's test files, relative to the repository root"),
  reports: z.array(z.string()),
  retries: z.number().int(),
  working_directory: z.string().nullable(),
  env: z.record(z.string(), z.string()),
  timeout_ms: z.number().int(),
  quarantined: z.array(z.string()).describe("test ids whose failures do not fail the job"),
});
export type RunnerTests = z.infer<typeof RunnerTests>;

export const RunnerPackage = z.object({
  files: z.array(z.string()),
  working_directory: z.string().nullable(),
});

export const RunnerJob = z.object({
  id: z.string(),
  run_id: z.string(),
  run_number: z.number().int(),
  attempt: z.number().int(),
  service: z.string(),
  job: z.string().describe("the job's id in slipway.yaml"),
  shard: z.object({ index: z.number().int(), total: z.number().int() }).nullable(),
  repository_url: z.string(),
  sha: z.string(),
  branch: z.string().nullable(),
  env: z.record(z.string(), z.string()).describe("the pipeline's, the job's and the service's variables, merged"),
  secrets: z.array(z.string()).describe("values to mask in every line of output"),
  steps: z.array(RunnerStep),
  tests: RunnerTests.nullable(),
  package: RunnerPackage.nullable(),
  artifacts: z.array(z.string()).describe("paths to keep after the job (globs)"),
  inputs: z.array(z.object({ job: z.string(), sha256: Sha256 })).describe("kept paths of the jobs this one needs, to unpack into the workspace first"),
  timeout_ms: z.number().int(),
  heartbeat_interval_ms: z.number().int(),
});
export type RunnerJob = z.infer<typeof RunnerJob>;

export const RunnerClaimed = z.object({ job: RunnerJob.nullable() });

export const JobStatus = z.strictObject({
  host_id: z.string(),
  attempt: z.number().int(),
  steps: z.array(StepStatus).default([]),
});
export type JobStatus = z.infer<typeof JobStatus>;

export const JobLogs = z.strictObject({
  host_id: z.string(),
  attempt: z.number().int(),
  lines: z
    .array(z.object({ step: z.number().int().min(-1), stream: z.enum(["stdout", "stderr", "system"]), at: z.number().int(), text: z.string().max(16_384) }))
    .max(5000),
});
export type JobLogs = z.infer<typeof JobLogs>;

export const ReportedTest = z.object({
  id: z.string(),
  name: z.string(),
  classname: z.string().nullable().default(null),
  file: z.string().nullable().default(null),
  duration_ms: z.number().min(0),
  status: z.enum(["passed", "failed", "skipped", "error"]),
  message: z.string().max(4000).nullable().default(null),
});
export type ReportedTest = z.infer<typeof ReportedTest>;

export const JobFinish = z.strictObject({
  host_id: z.string(),
  attempt: z.number().int(),
  outcome: z.enum(["succeeded", "failed", "cancelled"]),
  reason: z.string().max(2000).nullable().default(null),
  steps: z.array(StepStatus).default([]),
  tests: z
    .object({
      /** Each attempt of the test command: the first run of the shard, then each rerun of its failed files. */
      attempts: z.array(z.array(ReportedTest).max(100_000)).max(11),
      command_exit_codes: z.array(z.number().int()),
      reports_found: z.boolean(),
      /** Measured duration of each test file of the shard, ms, for the next split. */
      file_timings: z.record(z.string(), z.number().min(0)).default({}),
    })
    .nullable()
    .default(null),
  kept: z.object({ sha256: Sha256, size: z.number().int() }).nullable().default(null).describe("the job's `artifacts` paths, as a tarball"),
  package: z
    .object({ sha256: Sha256, size: z.number().int(), git_describe: z.string().nullable().default(null) })
    .nullable()
    .default(null)
    .describe("the release artifact the job built"),
});
export type JobFinish = z.infer<typeof JobFinish>;

export const JobAck = z.object({
  cancel: z.boolean().describe("stop the job: it was cancelled, superseded, or given to another runner"),
});
