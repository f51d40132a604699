// `slipway up --demo`: registers the demo service of examples/demo with environments staging
// (hosts labelled env=staging) and production (env=production), packages it as releases 1.0.0 and
// 2.0.0 (a .tar.gz with slipway.yaml and a VERSION file at its root), uploads them, and deploys
// each version to staging, then to production, showing the progress. Everything goes through the
// HTTP API, as a person with the CLI would. A second run skips what exists: the service, the
// releases, and every deployment that already succeeded (one still running is followed).
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "tar";
import { parseDocument } from "yaml";
import { SlipwayError } from "../core/errors.ts";
import type { Deployment } from "../contracts/deployments.ts";
import type { ApiClient } from "../cli/client.ts";
import type { DeploymentApi } from "../cli/deploy.ts";
import { failureReason, followDeployment, isFinal, ProgressView, type Output } from "../cli/progress.ts";

export const DEMO_SERVICE = "demo";
export const DEMO_VERSIONS = ["1.0.0", "2.0.0"] as const;
export const DEMO_SOURCE = join(import.meta.dirname, "..", "..", "examples", "demo");

export interface DemoOptions {
  api: ApiClient;
  deployments: DeploymentApi;
  /** Where the built artifacts are kept. */
  workDir: string;
  port: number;
  /** Hosts share 127.0.0.1 and tell the service its port through PORT: use a command health check. */
  sharedAddress: boolean;
  out: Output;
  tty: boolean;
  signal: AbortSignal;
}

/** examples/demo/slipway.yaml with this run's port (or, on a shared address, no port and a command health check). */
export function demoManifest(text: string, options: { port: number; sharedAddress: boolean }): string {
  const doc = parseDocument(text);
  if (options.sharedAddress) {
    doc.deleteIn(["run", "port"]);
    doc.setIn(["run", "health"], doc.createNode({ command: "node healthcheck.js", interval: "2s", timeout: "2s", start_period: "20s" }));
    doc.deleteIn(["run", "metrics"]);
  } else {
    doc.setIn(["run", "port"], options.port);
  }
  return doc.toString();
}

/** The demo packaged as `version`: its files, slipway.yaml and VERSION at the root of a .tar.gz. */
export async function buildDemoArtifact(version: string, options: { workDir: string; port: number; sharedAddress: boolean }): Promise<string> {
  await mkdir(options.workDir, { recursive: true });
  const staging = await mkdtemp(join(options.workDir, ".build-"));
  try {
    await cp(DEMO_SOURCE, staging, { recursive: true, filter: (source) => !source.endsWith("README.md") });
    await writeFile(join(staging, "slipway.yaml"), demoManifest(await readFile(join(DEMO_SOURCE, "slipway.yaml"), "utf8"), options));
    await writeFile(join(staging, "VERSION"), `${version}\n`);
    const path = join(options.workDir, `${DEMO_SERVICE}-${version}.tar.gz`);
    // portable + a fixed mtime: the same inputs give the same bytes.
    await create({ gzip: true, file: path, cwd: staging, portable: true, mtime: new Date("2026-01-01T00:00:00Z") }, (await readdir(staging)).sort());
    return path;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function ensureService(o: DemoOptions): Promise<void> {
  try {
    await o.api.getService(DEMO_SERVICE);
    o.out.write(`Service '${DEMO_SERVICE}' is already registered.\n`);
  } catch (error) {
    if (!(error instanceof SlipwayError && error.code === "not_found")) throw error;
    await o.api.createService({
      name: DEMO_SERVICE,
      repository_url: DEMO_SOURCE,
      environments: [
        { name: "staging", selector: { env: "staging" } },
        { name: "production", selector: { env: "production" } },
      ],
    });
    o.out.write(`Registered service '${DEMO_SERVICE}' (${DEMO_SOURCE}): staging (env=staging) -> production (env=production).\n`);
  }
}

async function ensureReleases(o: DemoOptions): Promise<void> {
  const existing = new Set((await o.api.listReleases(DEMO_SERVICE)).map((r) => r.version));
  for (const version of DEMO_VERSIONS) {
    if (existing.has(version)) continue;
    const path = await buildDemoArtifact(version, o);
    const artifact = await o.api.ensureArtifact(path);
    await o.api.createRelease(DEMO_SERVICE, { version, artifact_sha256: artifact.sha256 });
    o.out.write(`Built and uploaded release ${version} (${artifact.size} bytes, sha256 ${artifact.sha256.slice(0, 12)}).\n`);
  }
}

/** Deploys `version` to `environment` unless that already succeeded; follows one in progress. */
async function deployStep(o: DemoOptions, version: string, environment: string): Promise<void> {
  const earlier = (await o.deployments.list(DEMO_SERVICE, environment, 100)).filter((d) => d.kind === "deploy" && d.release.version === version);
  if (earlier.some((d) => d.state === "succeeded")) {
    o.out.write(`${DEMO_SERVICE} ${version} was already deployed to ${environment}; skipped.\n`);
    return;
  }
  const running = earlier.find((d) => !isFinal(d.state));
  const id = running?.id ?? (await o.deployments.create(DEMO_SERVICE, { version, environment })).id;
  o.out.write(`\n${running ? "Following" : "Deploying"} ${DEMO_SERVICE} ${version} to ${environment}:\n`);
  const view = new ProgressView(o.out, { tty: o.tty });
  const ticker = o.tty ? setInterval(() => view.tick(), 1000) : undefined;
  let final: Deployment;
  try {
    final = await followDeployment(o.deployments, id, (d) => view.update(d), { signal: o.signal, pollMs: 2000 });
  } finally {
    clearInterval(ticker);
  }
  view.finish(final);
  if (final.state !== "succeeded") throw new SlipwayError("conflict", `the demo stopped: deployment ${final.id} of ${version} to ${environment} ${final.state.replace("_", " ")}: ${failureReason(final)}`);
}

/** Runs the whole demo; resolves once 2.0.0 is live in production. */
export async function runDemo(o: DemoOptions): Promise<void> {
  await ensureService(o);
  await ensureReleases(o);
  for (const version of DEMO_VERSIONS) {
    for (const environment of ["staging", "production"]) {
      if (o.signal.aborted) return;
      await deployStep(o, version, environment);
    }
  }
}
