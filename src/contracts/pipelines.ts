// Pipeline runs as the API shows them: a run is a DAG of jobs (a job with parallelism N is N
// shards), each job a list of steps; logs are paged by sequence number; test results and
// per-test history feed the tests page.
import { z } from "zod";
import { JOB_STATES, type JobState } from "../core/pipeline/dag.ts";
import { RUN_STATES, type RunState } from "../core/pipeline/run.ts";
import { Timestamp } from "./common.ts";

export { JOB_STATES, RUN_STATES, type JobState, type RunState };
export const STEP_STATES = ["pending", "running", "succeeded", "failed", "cancelled", "skipped"] as const;
export const TRIGGERS = ["push", "manual", "schedule"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const StepStatus = z.object({
  index: z.number().int().min(0),
  name: z.string().max(200),
  state: z.enum(STEP_STATES),
  started_at: z.number().int().nullable().default(null),
  finished_at: z.number().int().nullable().default(null),
  exit_code: z.number().int().nullable().default(null),
});
export type StepStatus = z.infer<typeof StepStatus>;

export const TestSummary = z.object({
  passed: z.number().int(),
  failed: z.number().int(),
  flaky: z.number().int(),
  skipped: z.number().int(),
  quarantined_failures: z.number().int(),
});
export type TestSummary = z.infer<typeof TestSummary>;

export const RunJob = z.object({
  id: z.string(),
  key: z.string().describe("the job's id in slipway.yaml"),
  name: z.string(),
  shard: z.object({ index: z.number().int(), total: z.number().int() }).nullable(),
  needs: z.array(z.string()),
  state: z.enum(JOB_STATES),
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  runner: z.string().nullable().describe("the runner host's name"),
  steps: z.array(StepStatus),
  tests: TestSummary.nullable(),
  test_files: z.array(z.string()).describe("the test files of this shard"),
  reason: z.string().nullable(),
  queued_at: Timestamp.nullable(),
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
});
export type RunJob = z.infer<typeof RunJob>;

export const Run = z.object({
  id: z.string(),
  service: z.string(),
  number: z.number().int(),
  state: z.enum(RUN_STATES),
  trigger: z.enum(TRIGGERS),
  branch: z.string().nullable(),
  sha: z.string(),
  message: z.string(),
  author: z.string().describe("the commit's author"),
  triggered_by: z.string(),
  reason: z.string().nullable(),
  release: z.object({ id: z.string(), version: z.string() }).nullable(),
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  jobs: z.array(RunJob),
});
export type Run = z.infer<typeof Run>;

export const RunList = z.object({ items: z.array(Run.omit({ jobs: true }).extend({ jobs: z.array(RunJob.pick({ key: true, state: true, shard: true })) })) });

export const RunCreate = z.strictObject({
  branch: z.string().min(1).max(255).optional().describe("defaults to the repository's default branch"),
  sha: z
    .string()
    .regex(/^[a-f0-9]{7,40}$/)
    .optional()
    .describe("a commit on the branch; defaults to the branch's head"),
});

export const RunQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().optional().describe("run number: list older runs than this"),
  branch: z.string().optional(),
});

export const LogLine = z.object({
  seq: z.number().int(),
  attempt: z.number().int(),
  step: z.number().int().describe("the step's index; -1 for the runner's own lines (checkout, artifacts)"),
  stream: z.enum(["stdout", "stderr", "system"]),
  at: z.number().int(),
  text: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;

export const LogPage = z.object({
  lines: z.array(LogLine),
  next: z.number().int().describe("pass as `after` to read on"),
  done: z.boolean().describe("the job has finished and every line has been read"),
});

export const LogQuery = z.object({
  after: z.coerce.number().int().default(-1),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

export const TestResultView = z.object({
  test_id: z.string(),
  name: z.string(),
  classname: z.string().nullable(),
  file: z.string().nullable(),
  outcome: z.enum(["passed", "failed", "flaky", "skipped"]),
  quarantined: z.boolean(),
  duration_ms: z.number(),
  attempts: z.number().int(),
  message: z.string().nullable(),
  job: z.string(),
});

export const TestStats = z.object({
  test_id: z.string(),
  name: z.string(),
  file: z.string().nullable(),
  runs: z.number().int(),
  failures: z.number().int(),
  flakes: z.number().int(),
  flake_rate: z.number(),
  mean_ms: z.number(),
  last_ms: z.number(),
  last_run_at: Timestamp,
  quarantined: z.boolean(),
});
export type TestStats = z.infer<typeof TestStats>;

export const TestStatsQuery = z.object({
  sort: z.enum(["slowest", "flakiest", "failing"]).default("slowest"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const Quarantine = z.object({
  test_id: z.string(),
  reason: z.string(),
  automatic: z.boolean(),
  created_by: z.string(),
  created_at: Timestamp,
});
export const QuarantineCreate = z.strictObject({ reason: z.string().min(1).max(500).default("quarantined by hand") });

export const Variable = z.object({ name: z.string(), secret: z.boolean(), value: z.string().nullable().describe("null for a secret"), updated_at: Timestamp });
export const VariableSet = z.strictObject({ value: z.string().max(32_768), secret: z.boolean().default(false) });
export const VariableParams = z.object({ service: z.string().min(1).max(200), name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "variable names are letters, digits and _") });

export const WebhookSecret = z.object({
  url_path: z.string().describe("POST here, with the provider in place of {provider}: github, gitlab, gitea or generic"),
  secret: z.string().describe("shown once"),
});
