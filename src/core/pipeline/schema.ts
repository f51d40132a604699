// The pipeline part of a service's slipway.yaml: when a run starts, which jobs it has, how they
// depend on each other, which runners take them, how tests are split and retried, and what the
// release is made of. It reads like GitHub Actions or GitLab CI:
//
//   on:
//     push: { branches: [main, "release/*"] }
//     manual: true
//     schedule: ["0 3 * * *", { cron: "0 6 * * MON", branch: develop, timezone: Europe/Paris }]
//     supersede: true              # a newer push replaces queued runs of the same branch
//   env: { NODE_ENV: test }
//   quarantine: { auto: true, flake_rate: 0.2, min_runs: 5 }   # flaky tests stop failing runs
//   jobs:
//     build:
//       runs_on: [linux]
//       steps:
//         - run: npm ci
//         - { name: compile, run: npm run build, timeout: 5m, env: { CI: "1" }, working_directory: app }
//       artifacts: [dist/**]
//     test:
//       needs: [build]
//       parallelism: 4
//       retry: 1                   # the whole job again on failure or a lost runner
//       tests:
//         files: "test/**/*.test.js"
//         command: node --test --test-reporter=junit --test-reporter-destination=junit.xml {files}
//         reports: "*.xml"
//         retries: 2               # failed tests run again, up to this many times
//     release:
//       needs: [test]
//       steps: [{ run: npm run build }]
//       package:
//         files: [dist/**, package.json, slipway.yaml]
//         version: "1.0.{run_number}"
import { z } from "zod";
import { Duration } from "../manifest/duration.ts";
import { cronProblem, timeZoneProblem } from "./triggers.ts";
import { versionTemplateProblem } from "./version.ts";

/** A string schema refused with the message `problem` gives, when it gives one. */
const checked = (schema: z.ZodString, problem: (value: string) => string | undefined) =>
  schema.superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  });

const Command = z.string().min(1).max(20_000);
const JobId = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, "a job id is letters, digits, _ and -, starting with a letter or _");
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable names are letters, digits and _");
const Env = z.record(EnvName, z.union([z.string(), z.number(), z.boolean()]).transform(String));
const Glob = z.string().min(1).max(1000);
const RelativePath = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "a path inside the repository (no leading / and no ..)");

export const Step = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  run: Command,
  env: Env.default({}),
  timeout: Duration.default(3_600_000),
  working_directory: RelativePath.optional(),
});
export type Step = z.infer<typeof Step>;

export const TestsSection = z.strictObject({
  files: z.union([Glob, z.array(Glob).min(1)]).transform((g) => (Array.isArray(g) ? g : [g])).describe("the test files to split across shards"),
  command: Command.refine((c) => c.includes("{files}"), "the command must contain {files}, where a shard's test files go"),
  reports: z.union([Glob, z.array(Glob).min(1)]).transform((g) => (Array.isArray(g) ? g : [g])).default(["**/junit*.xml"]).describe("JUnit XML reports the command writes"),
  retries: z.number().int().min(0).max(10).default(2).describe("failed tests run again up to this many times; one that then passes is flaky"),
  working_directory: RelativePath.optional(),
  env: Env.default({}),
  timeout: Duration.default(3_600_000),
});
export type TestsSection = z.infer<typeof TestsSection>;

export const PackageSection = z.strictObject({
  files: z.array(Glob).min(1).describe("what goes into the release's artifact; slipway.yaml is always included"),
  version: checked(z.string().min(1).max(200), versionTemplateProblem).default("{run_number}").describe("template: {run_number}, {git_describe}, {short_sha}, {sha}, {branch}, {date}"),
  working_directory: RelativePath.optional(),
});
export type PackageSection = z.infer<typeof PackageSection>;

export const JobRetry = z.union([
  z.number().int().min(0).max(10).transform((max) => ({ max, when: ["failure", "runner_lost"] as ("failure" | "runner_lost")[] })),
  z.strictObject({
    max: z.number().int().min(0).max(10),
    when: z.array(z.enum(["failure", "runner_lost"])).min(1).default(["failure", "runner_lost"]),
  }),
]);
export type JobRetry = z.infer<typeof JobRetry>;

export const Job = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    needs: z.union([JobId, z.array(JobId)]).transform((n) => (Array.isArray(n) ? n : [n])).default([]),
    runs_on: z.union([z.string(), z.array(z.string()), z.record(z.string(), z.string())]).optional().describe("runner labels: a list of names (each must be a label key present, or key=value) or a map"),
    env: Env.default({}),
    steps: z.array(Step).default([]),
    timeout: Duration.default(3_600_000),
    retry: JobRetry.default({ max: 0, when: ["failure", "runner_lost"] }),
    parallelism: z.number().int().min(1).max(256).default(1),
    tests: TestsSection.optional(),
    artifacts: z.array(Glob).default([]).describe("paths kept after the job"),
    package: PackageSection.optional(),
  })
  .refine((job) => job.steps.length > 0 || job.tests !== undefined || job.package !== undefined, { message: "a job needs steps, tests or package" })
  .refine((job) => job.parallelism === 1 || job.tests !== undefined, { message: "parallelism splits tests: give a tests section", path: ["parallelism"] });
export type Job = z.infer<typeof Job>;

const CronExpression = checked(z.string(), cronProblem);

// Push patterns are globs (see triggers.ts); "**" is every branch, "*" only those without a "/".
export const Triggers = z.strictObject({
  push: z
    .union([z.boolean(), z.strictObject({ branches: z.array(Glob).min(1).default(["**"]) })])
    .transform((p) => (p === true ? { branches: ["**"] } : p === false ? null : p))
    .default({ branches: ["**"] }),
  manual: z.boolean().default(true),
  schedule: z
    .array(
      z.union([
        CronExpression,
        z.strictObject({
          cron: CronExpression,
          branch: z.string().min(1).optional().describe("the branch a scheduled run builds; the service's default branch otherwise"),
          timezone: checked(z.string(), timeZoneProblem).optional().describe("the time zone the expression is read in; UTC otherwise"),
        }),
      ]),
    )
    .transform((s) => s.map((entry) => (typeof entry === "string" ? { cron: entry } : entry)))
    .default([]),
  supersede: z.boolean().default(true).describe("a newer push to a branch cancels that branch's runs still queued"),
});
export type Triggers = z.infer<typeof Triggers>;

export const QuarantinePolicy = z.strictObject({
  auto: z.boolean().default(true),
  flake_rate: z.number().gt(0).max(1).default(0.2).describe("quarantine a test whose flake rate passes this"),
  min_runs: z.number().int().min(1).default(5).describe("runs of a test before its flake rate counts"),
  window: z.number().int().min(1).default(50).describe("the most recent runs the flake rate is computed over"),
});

export type QuarantinePolicy = z.infer<typeof QuarantinePolicy>;

/** The pipeline keys of slipway.yaml, spread into the file's top-level schema. */
export const PipelineFields = {
  on: Triggers.optional(),
  env: Env.optional(),
  quarantine: QuarantinePolicy.optional(),
  jobs: z.record(JobId, Job).optional(),
};

export interface Pipeline {
  on: Triggers;
  env: Record<string, string>;
  quarantine: QuarantinePolicy;
  jobs: Record<string, Job>;
}

/** The parsed pipeline keys of a file, as PipelineFields gives them (each absent when not written). */
export type PipelineFieldValues = { [K in keyof typeof PipelineFields]?: z.output<(typeof PipelineFields)[K]> };

/** The file's pipeline with every default filled in, or undefined when the file defines none. */
export function pipelineFrom(fields: PipelineFieldValues): Pipeline | undefined {
  if (fields.jobs === undefined) return undefined;
  return { on: fields.on ?? Triggers.parse({}), env: fields.env ?? {}, quarantine: fields.quarantine ?? QuarantinePolicy.parse({}), jobs: fields.jobs };
}
