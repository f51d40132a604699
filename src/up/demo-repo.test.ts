// The demo's git repository, made with the system git: what each step commits, that a step is
// found again (and so not made twice) among a person's own commits, and the slipway.yaml it
// holds for either host layout (a canary in production, judged by the scraped metrics).
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitText } from "../git/exec.ts";
import { parseSlipwayFile } from "../core/manifest/parse.ts";
import { rolloutFor } from "../core/manifest/schema.ts";
import { commitStep, committedSteps, DEMO_BAD_ERROR_RATE, DEMO_MESSAGES, DEMO_SOURCE, DEMO_STEPS, demoManifest, ensureDemoRepo } from "./demo-repo.ts";
import { tempDir } from "../../test/support/git.ts";

const ISOLATED = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const git = (dir: string, ...args: string[]) => gitText(args, { cwd: dir, env: ISOLATED });
const options = { port: 7411, sharedAddress: false };

let root: string;
let repo: string;

before(async () => {
  root = await tempDir("slipway-demo-repo-");
  repo = join(root, "demo-repo");
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the demo repository", () => {
  it("is created once, empty, on main", async () => {
    assert.equal(await ensureDemoRepo(repo), true);
    assert.equal(await ensureDemoRepo(repo), false, "an existing repository is kept");
    assert.equal(await git(repo, "symbolic-ref", "HEAD"), "refs/heads/main");
    assert.deepEqual(await committedSteps(repo), new Map(), "no commit yet");
  });

  it("commits the demo with its tests and a pipeline on this start's port as step 1", async () => {
    const sha = await commitStep(repo, DEMO_STEPS[0]!, options);
    assert.deepEqual(await committedSteps(repo), new Map([[1, sha]]));
    const files = (await git(repo, "ls-tree", "-r", "--name-only", "HEAD")).split("\n");
    for (const file of ["server.js", "healthcheck.js", "package.json", "slipway.yaml", "README.md", ".gitignore", "test/faults.test.js", "test/start-demo.js"]) assert.ok(files.includes(file), `${file} is committed`);
    assert.ok(!files.includes("VERSION"), "the version is the pipeline's to write");
    assert.equal(await readFile(join(repo, "server.js"), "utf8"), await readFile(join(DEMO_SOURCE, "server.js"), "utf8"));
    assert.equal(await git(repo, "log", "-1", "--format=%an <%ae>"), "Slipway demo <demo@slipway.localhost>");
    const { manifest, pipeline } = parseSlipwayFile(await readFile(join(repo, "slipway.yaml"), "utf8"));
    assert.equal(manifest?.run.port, 7411);
    assert.deepEqual(Object.keys(pipeline?.jobs ?? {}), ["build", "test", "package"]);
    assert.equal(pipeline?.jobs.test?.parallelism, 2);
  });

  it("changes only the greeting of server.js as step 2, and commits nothing a person left uncommitted", async () => {
    await writeFile(join(repo, "README.md"), "a person's unfinished edit\n");
    const before = await readFile(join(repo, "server.js"), "utf8");
    const first = (await committedSteps(repo)).get(1);
    const sha = await commitStep(repo, DEMO_STEPS[1]!, options);
    assert.deepEqual(await committedSteps(repo), new Map([[1, first], [2, sha]]));
    assert.equal(await git(repo, "diff", "--name-only", "HEAD~1", "HEAD"), "server.js");
    assert.equal(await readFile(join(repo, "server.js"), "utf8"), before.replace(DEMO_MESSAGES[0], DEMO_MESSAGES[1]));
    assert.equal(await git(repo, "status", "--porcelain"), " M README.md", "the person's edit is still theirs");
    assert.match(await git(repo, "log", "-1", "--format=%B"), /^v2: a new greeting\n\n.+\n\nSlipway-Demo: 2\n?$/);
  });

  it("sets DEMO_ERROR_RATE in run.env of slipway.yaml as step 3, a bad release for the production canary, and changes nothing else", async () => {
    const before = parseSlipwayFile(await readFile(join(repo, "slipway.yaml"), "utf8"));
    const sha = await commitStep(repo, DEMO_STEPS[2]!, options);
    assert.equal((await committedSteps(repo)).get(3), sha);
    assert.equal(await git(repo, "diff", "--name-only", "HEAD~1", "HEAD"), "slipway.yaml");
    const diff = await git(repo, "diff", "-U0", "HEAD~1", "HEAD");
    assert.equal(diff.split("\n").filter((l) => /^[-+][^-+]/.test(l)).length, 2, `one line changed:\n${diff}`);
    const after = parseSlipwayFile(await readFile(join(repo, "slipway.yaml"), "utf8"));
    assert.deepEqual(after.manifest?.run.env, { ...before.manifest?.run.env, DEMO_ERROR_RATE: DEMO_BAD_ERROR_RATE });
    assert.deepEqual(after.manifest?.deploy, before.manifest?.deploy);
    assert.deepEqual(DEMO_STEPS.map((s) => s.expect), ["live", "live", "rolled_back"]);
    assert.match(await git(repo, "log", "-1", "--format=%B"), /^v3: a bad release\n\n.+\n\nSlipway-Demo: 3\n?$/);
  });

  it("refuses step 3 on a slipway.yaml whose production is no canary with an analysis, which could not catch it", async () => {
    const other = join(root, "older");
    await ensureDemoRepo(other);
    await commitStep(other, DEMO_STEPS[0]!, options);
    const path = join(other, "slipway.yaml");
    await writeFile(path, (await readFile(path, "utf8")).replace("strategy: canary", "strategy: rolling"));
    await assert.rejects(commitStep(other, DEMO_STEPS[2]!, options), /does not deploy production as a canary with a deploy\.analysis/);
  });

  it("finds its steps again below a person's later commits", async () => {
    const steps = await committedSteps(repo);
    await git(repo, "-c", "user.name=Ada", "-c", "user.email=ada@example.com", "commit", "--quiet", "-am", "my own change");
    assert.deepEqual(await committedSteps(repo), steps);
  });

  it("refuses step 2 on a server.js whose greeting line is gone, naming the line", async () => {
    const other = join(root, "other");
    await ensureDemoRepo(other);
    await commitStep(other, DEMO_STEPS[0]!, options);
    await writeFile(join(other, "server.js"), "// rewritten\n");
    await assert.rejects(commitStep(other, DEMO_STEPS[1]!, options), /changes the line 'const MESSAGE = "Hello from the Slipway demo";'/);
  });
});

describe("demoManifest", () => {
  it("sets the port, or on a shared address drops it for a command health check and keeps the metrics", async () => {
    const text = await readFile(join(DEMO_SOURCE, "slipway.yaml"), "utf8");
    assert.equal(parseSlipwayFile(demoManifest(text, { port: 9000, sharedAddress: false })).manifest?.run.port, 9000);
    const shared = parseSlipwayFile(demoManifest(text, { port: 9000, sharedAddress: true }));
    assert.equal(shared.manifest?.run.port, undefined);
    assert.deepEqual(shared.manifest?.run.health && "command" in shared.manifest.run.health ? shared.manifest.run.health.command : undefined, "node healthcheck.js");
    assert.equal(shared.manifest?.run.metrics, "/metrics", "the agents scrape it on each host's PORT");
    assert.ok(shared.pipeline, "the pipeline is kept");
  });

  it("deploys staging all at once and production as a canary in waves by region, judged every second by its error ratio and p95 latency", async () => {
    const { manifest } = parseSlipwayFile(await readFile(join(DEMO_SOURCE, "slipway.yaml"), "utf8"));
    const staging = rolloutFor(manifest!.deploy, "staging");
    assert.deepEqual([staging.strategy, staging.regions], ["all_at_once", []]);
    const production = rolloutFor(manifest!.deploy, "production");
    assert.equal(production.strategy, "canary");
    assert.deepEqual(production.regions, ["eu", "us"], "the regions up's hosts are labelled with");
    assert.deepEqual(production.analysis?.metrics.map((m) => m.name), ["error ratio", "p95 latency"]);
    assert.equal(production.analysis?.interval, 1000);
    assert.equal(manifest?.run.metrics_interval, 1000);
  });
});
