// `slipway up --demo`: the demo service goes from a git push to production with no other action,
// the way a team's service would.
//
//   1. <data-dir>/demo-repo: a real git repository, created empty on the first start;
//   2. the service `demo` registered through the API with that repository, and the environments
//      staging (hosts env=staging) and production (env=production), both automatic: each new
//      release goes to staging, and on to production once it is healthy there;
//   3. three commits (demo-repo.ts), each once the one before is done in production. The
//      server's polling sees each push and runs the pipeline of the repository's slipway.yaml on
//      the local runners (build, tests split across two of them, package); the run's release is
//      deployed to staging, then production (a canary judged by its metrics under the traffic
//      `up` sends), by the server itself. The third is a bad release: the production canary must
//      catch it and roll it back by itself. The demo only watches (demo-follow.ts).
//
// A second start skips what exists: the repository, the service, its commits, the runs and
// deployments that succeeded; what is still going (a start stopped halfway) is followed.
import { join } from "node:path";
import { Service, type EnvironmentInput } from "../contracts/services.ts";
import { SlipwayError } from "../core/errors.ts";
import type { ApiClient } from "../cli/client.ts";
import type { DeploymentApi } from "../cli/deploy.ts";
import type { Output } from "../cli/progress.ts";
import { failureReason } from "../cli/progress.ts";
import type { Deployment } from "../contracts/deployments.ts";
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

/** The bad release, as the production canary left it. */
export interface CaughtRelease {
  version: string;
  environment: string;
  deploymentId: string;
  /** Why it was rolled back: the verdict in words. */
  reason: string;
  /** The hosts that ran it before the rollback. */
  hosts: string[];
  /** What the environment runs now. */
  live: string | undefined;
}

export interface DemoOutcome {
  /** The release of the demo's last good commit, live in production. */
  version: string;
  /** The last run (the bad release's). */
  runId: string;
  caught: CaughtRelease | undefined;
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

/** Runs the whole demo; resolves once the last commit's release is rolled back in production. */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  if (await ensureDemoRepo(o.repoDir)) o.out.write(`Created the demo's git repository: ${o.repoDir}\n`);
  const service = await ensureService(o);
  const context: FollowContext = { api: o.api, deployments: o.deployments, service: DEMO_SERVICE, dashboard: o.dashboard, out: o.out, tty: o.tty, columns: o.columns, signal: o.signal };
  const committed = await committedSteps(o.repoDir);
  if (committed.size === 0) {
    // A commit made before the first poll would be taken for where the branch already was.
    await until(async () => ((await o.firstPollDone(service.id)) ? true : undefined), { what: "the first poll of the demo's repository", timeoutMs: 60_000, intervalMs: 100, signal: o.signal });
  }
  let live: string | undefined;
  let runId: string | undefined;
  let caught: CaughtRelease | undefined;
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
    runId = run.id;
    for (const environment of service.environments) {
      if (o.signal.aborted) break;
      // The bad release goes through staging (nothing judges it there) and is caught in production.
      const rollsBack = step.expect === "rolled_back" && environment.name === "production";
      const final = await followDeploymentTo(context, environment, run.release.version, rollsBack ? "rolled_back" : "succeeded");
      if (rollsBack) caught = await describeCatch(o, final);
    }
    if (step.expect === "live") live = run.release.version;
  }
  if (!live || !runId || o.signal.aborted) throw new SlipwayError("conflict", "the demo was stopped");
  return { version: live, runId, caught };
}

/** The canary's catch, told in words: the verdict, the hosts that ran the release, what runs now. */
async function describeCatch(o: DemoOptions, d: Deployment): Promise<CaughtRelease> {
  const environments = (await o.deployments.status(DEMO_SERVICE)).environments;
  const caught: CaughtRelease = {
    version: d.release.version,
    environment: d.environment,
    deploymentId: d.id,
    reason: failureReason(d),
    hosts: d.hosts.filter((h) => h.status !== "pending" && h.status !== "skipped").map((h) => h.name),
    live: environments.find((e) => e.name === d.environment)?.live?.version,
  };
  const decided = d.events.find((e) => e.to === "rolling_back")?.at;
  const exposed = d.started_at && decided ? `, for ${Math.max(1, Math.round((Date.parse(decided) - Date.parse(d.started_at)) / 1000))} s` : "";
  const elsewhere = environments.filter((e) => e.name !== d.environment && e.live?.version === caught.version).map((e) => e.name);
  o.out.write(
    [
      "",
      `The canary caught the bad release: Slipway rolled ${DEMO_SERVICE} ${caught.version} back in ${d.environment} by itself.`,
      `  Why:  ${caught.reason}`,
      `  Only ${caught.hosts.join(", ")} (${caught.hosts.length} of the ${d.hosts.length} ${d.environment} hosts) ran ${caught.version}${exposed}; ${d.environment} runs ${DEMO_SERVICE} ${caught.live ?? "nothing"}.`,
      ...(elsewhere.length > 0 ? [`  (${capitalized(elsewhere.join(" and "))} keep${elsewhere.length === 1 ? "s" : ""} ${caught.version}: no canary judges it there.)`] : []),
      `  The verdict, with the canary and baseline charts: ${o.dashboard}/deployments/${encodeURIComponent(d.id)}`,
      "",
    ].join("\n"),
  );
  return caught;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
