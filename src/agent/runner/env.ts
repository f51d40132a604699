// The environment of a job's commands, lowest precedence first:
//
//   1. a minimal base from the runner's own environment: PATH, HOME, the user and locale, the
//      time zone, TMPDIR, proxies and CA settings. Nothing else, so the agent's token
//      (SLIPWAY_TOKEN) and whatever else the agent was started with never reach a job.
//   2. the job's env (the pipeline's, the job's and the service's variables, merged by the server)
//   3. the step's (or the tests section's) env
//   4. the CI variables: CI=true, SLIPWAY=true and SLIPWAY_* describing the run, which a job
//      cannot override (they are what the runner knows to be true).
import type { RunnerJob } from "../../contracts/runner.ts";

const BASE_VARIABLES = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];

const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The variables every command of `job` gets from the runner (step 4 of the header). */
export function ciVariables(job: RunnerJob, workspace: string): Record<string, string> {
  return {
    CI: "true",
    SLIPWAY: "true",
    SLIPWAY_SERVICE: job.service,
    SLIPWAY_RUN_ID: job.run_id,
    SLIPWAY_RUN_NUMBER: String(job.run_number),
    SLIPWAY_SHA: job.sha,
    SLIPWAY_BRANCH: job.branch ?? "",
    SLIPWAY_JOB: job.job,
    SLIPWAY_JOB_ID: job.id,
    SLIPWAY_JOB_ATTEMPT: String(job.attempt),
    SLIPWAY_SHARD_INDEX: String(job.shard?.index ?? 0),
    SLIPWAY_SHARD_TOTAL: String(job.shard?.total ?? 1),
    SLIPWAY_WORKSPACE: workspace,
  };
}

/** The whole environment of one command of `job` (see the header). */
export function commandEnvironment(base: NodeJS.ProcessEnv, job: RunnerJob, own: Record<string, string>, workspace: string): Record<string, string> {
  const env: Record<string, string> = { PATH: FALLBACK_PATH };
  for (const name of BASE_VARIABLES) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...job.env, ...own, ...ciVariables(job, workspace) };
}
