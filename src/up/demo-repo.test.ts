// The demo's git repository, made with the system git: what each step commits, that a step is
// found again (and so not made twice) among a person's own commits, and the slipway.yaml it
// holds for either host layout.
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitText } from "../git/exec.ts";
import { parseSlipwayFile } from "../core/manifest/parse.ts";
import { commitStep, committedSteps, DEMO_MESSAGES, DEMO_SOURCE, DEMO_STEPS, demoManifest, ensureDemoRepo } from "./demo-repo.ts";
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
  it("sets the port, or on a shared address drops it for a command health check and no metrics", async () => {
    const text = await readFile(join(DEMO_SOURCE, "slipway.yaml"), "utf8");
    assert.equal(parseSlipwayFile(demoManifest(text, { port: 9000, sharedAddress: false })).manifest?.run.port, 9000);
    const shared = parseSlipwayFile(demoManifest(text, { port: 9000, sharedAddress: true }));
    assert.equal(shared.manifest?.run.port, undefined);
    assert.deepEqual(shared.manifest?.run.health && "command" in shared.manifest.run.health ? shared.manifest.run.health.command : undefined, "node healthcheck.js");
    assert.equal(shared.manifest?.run.metrics, undefined);
    assert.ok(shared.pipeline, "the pipeline is kept");
  });
});
