// `slipway up --demo`: the demo service goes from a git push to production with no other action,
// the way a team's service would.
//
//   1. <data-dir>/demo-repo: a real git repository, created empty on the first start;
//   2. the service `demo` registered through the API with that repository, and the environments
//      staging (hosts env=staging) and production (env=production), both automatic: each new
//      release goes to staging, and on to production once it is healthy there;
//   3. two commits (demo-repo.ts), the second once the first is live in production. The server's
//      polling sees each push and runs the pipeline of the repository's slipway.yaml on the local
//      runners (build, tests split across two of them, package); the run's release is deployed to
//      staging, then production, by the server itself. The demo only watches (demo-follow.ts).
//
// A second start skips what exists: the repository, the service, its commits, the runs and
// deployments that succeeded; what is still going (a start stopped halfway) is followed.
import { join } from "node:path";
import { Service, type EnvironmentInput } from "../contracts/services.ts";
import { SlipwayError } from "../core/errors.ts";
import type { ApiClient } from "../cli/client.ts";
import type { DeploymentApi } from "../cli/deploy.ts";
import type { Output } from "../cli/progress.ts";
import { followDeploymentTo, followPipeline, until, type FollowContext } from "./demo-follow.ts";
import { commitStep, committedSteps, DEMO_BRANCH, DEMO_STEPS, ensureDemoRepo, type ManifestOptions } from "./demo-repo.ts";

export const DEMO_SERVICE = "demo";

/** Where the demo's repository lives in a data dir. */
export const demoRepoDir = (dataDir: string): string => join(dataDir, "demo-repo");

const ENVIRONMENTS: EnvironmentInput[] = [
  { name: "staging", selector: { env: "staging" }, auto: true },
  { name: "production", selector: { env: "production" }, auto: true },
];

export interface DemoOptions extends ManifestOptions {
  api: ApiClient;
  deployments: DeploymentApi;
  repoDir: string;
  /** The server's URL, under which the dashboard's pages are. */
  dashboard: string;
  /** How often the server polls repositories, for the terminal. */
  pollIntervalMs: number;
  /** Whether the server polled the service's repository once: its first poll only records the branches. */
  firstPollDone(serviceId: string): Promise<boolean>;
  out: Output;
  tty: boolean;
  columns: () => number | undefined;
  signal: AbortSignal;
}

export interface DemoOutcome {
  /** The release of the demo's last commit, live in production. */
  version: string;
  runId: string;
}

/**
 * The demo service, registered with the demo repository and automatic environments; one of an
 * earlier demo (which packaged releases itself) is moved onto the repository.
 */
async function ensureService(o: DemoOptions): Promise<Service> {
  const wanted = { repository_url: o.repoDir, environments: ENVIRONMENTS };
  let service: Service;
  try {
    service = await o.api.getService(DEMO_SERVICE);
  } catch (error) {
    if (!(error instanceof SlipwayError && error.code === "not_found")) throw error;
    service = await o.api.createService({ name: DEMO_SERVICE, ...wanted });
    o.out.write(
      `Registered service '${DEMO_SERVICE}' with the repository ${o.repoDir}: staging (hosts env=staging) -> production (env=production).\n` +
        "Both environments are automatic: each release the pipeline makes is deployed to staging, and once it is healthy there, to production.\n",
    );
    return service;
  }
  if (service.repository_url === o.repoDir) {
    o.out.write(`Service '${DEMO_SERVICE}' is already registered.\n`);
    return service;
  }
  service = await o.api.request(Service, "PATCH", `/services/${DEMO_SERVICE}`, { revision: service.revision, ...wanted });
  o.out.write(`Service '${DEMO_SERVICE}' now builds from the repository ${o.repoDir}, with automatic staging and production.\n`);
  return service;
}

/** Runs the whole demo; resolves once the last commit's release is live in production. */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  if (await ensureDemoRepo(o.repoDir)) o.out.write(`Created the demo's git repository: ${o.repoDir}\n`);
  const service = await ensureService(o);
  const context: FollowContext = { api: o.api, deployments: o.deployments, service: DEMO_SERVICE, dashboard: o.dashboard, out: o.out, tty: o.tty, columns: o.columns, signal: o.signal };
  const committed = await committedSteps(o.repoDir);
  if (committed.size === 0) {
    // A commit made before the first poll would be taken for where the branch already was.
    await until(async () => ((await o.firstPollDone(service.id)) ? true : undefined), { what: "the first poll of the demo's repository", timeoutMs: 60_000, intervalMs: 100, signal: o.signal });
  }
  let outcome: DemoOutcome | undefined;
  for (const step of DEMO_STEPS) {
    if (o.signal.aborted) break;
    let sha = committed.get(step.step);
    if (sha) {
      o.out.write(`\nCommit ${sha.slice(0, 12)} "${step.title}" is already in the repository.\n`);
    } else {
      sha = await commitStep(o.repoDir, step, o);
      o.out.write(`\nCommitted ${sha.slice(0, 12)} to ${DEMO_BRANCH}: "${step.title}"\n  ${step.body}\nSlipway polls the repository every ${o.pollIntervalMs / 1000} s, sees the new commit and runs its pipeline; nothing else is done by hand.\n`);
    }
    const run = await followPipeline(context, sha);
    for (const environment of service.environments) {
      if (o.signal.aborted) break;
      await followDeploymentTo(context, environment, run.release.version);
    }
    outcome = { version: run.release.version, runId: run.id };
  }
  if (!outcome) throw new SlipwayError("conflict", "the demo was stopped");
  return outcome;
}
