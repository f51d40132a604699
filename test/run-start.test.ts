// Starting a run (src/controller/run-start.ts) through the API, against a real server and a real
// git repository: what the run records about its commit (author, subject, `git describe` without
// the deploy/* tags), whether the mirror already had the commit or had to fetch it first, and the
// clear refusals of a commit that is not there or has no slipway.yaml.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { commit, createRepo, runGit, tempDir } from "./support/git.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

// Jobs no runner can take: the runs stay queued, which is all these tests look at.
const PIPELINE = "on: { push: false }\njobs:\n  build:\n    runs_on: [nobody-has-this]\n    steps: [{ run: 'true' }]\n";

let t: TestServer;
let repo: string;

before(async () => {
  t = await startTestServer({ pollIntervalMs: 60_000 });
  repo = await createRepo(await tempDir());
  await commit(repo, { "README.md": "shop\n" }, "before the pipeline");
  await commit(repo, { "slipway.yaml": PIPELINE }, "add a pipeline");
  await runGit(repo, "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "tag", "-a", "v1.0.0", "-m", "the first release");
  const created = await t.api("POST", "/api/v1/services", { body: { name: "shop", repository_url: repo } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

after(async () => {
  await t?.stop();
  if (repo) await rm(repo, { recursive: true, force: true });
});

const stored = async (id: string) => ({ ...(await t.server.store.db.selectFrom("pipeline_runs").select(["sha", "branch", "author", "message", "git_describe", "state"]).where("id", "=", id).executeTakeFirstOrThrow()) });

describe("starting a run", () => {
  it("records the commit's author, subject and git describe (deploy/* tags left out), on the default branch", async () => {
    const sha = await commit(repo, { "src/app.js": "1\n" }, "a change after the release\n\nwith a body that is not the subject");
    await runGit(repo, "tag", "deploy/staging/1", sha);
    const started = await t.api("POST", "/api/v1/services/shop/runs", { body: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.sha, sha);
    assert.deepEqual(await stored(started.body.id), {
      sha,
      branch: "main",
      author: "Ada Lovelace <ada@example.com>",
      message: "a change after the release",
      git_describe: `v1.0.0-1-g${sha.slice(0, 7)}`,
      state: "queued",
    });

    // The same commit again, by its sha: the mirror has it, and the run says the same.
    const again = await t.api("POST", "/api/v1/services/shop/runs", { body: { sha } });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.deepEqual(await stored(again.body.id), await stored(started.body.id));
  });

  it("fetches a commit the mirror does not have yet, given by its sha", async () => {
    const sha = await commit(repo, { "src/app.js": "2\n" }, "pushed since the last fetch");
    const started = await t.api("POST", "/api/v1/services/shop/runs", { body: { sha } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal((await stored(started.body.id)).git_describe, `v1.0.0-2-g${sha.slice(0, 7)}`);
  });

  it("describes a commit no tag reaches by its short sha", async () => {
    await runGit(repo, "checkout", "--quiet", "--orphan", "fresh");
    const sha = await commit(repo, { "slipway.yaml": PIPELINE }, "an unrelated history");
    const started = await t.api("POST", "/api/v1/services/shop/runs", { body: { branch: "fresh" } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.deepEqual(await stored(started.body.id), { sha, branch: "fresh", author: "Ada Lovelace <ada@example.com>", message: "an unrelated history", git_describe: sha.slice(0, 7), state: "queued" });
    await runGit(repo, "checkout", "--quiet", "main");
  });

  it("refuses a commit that is not in the repository, and one without slipway.yaml, saying why", async () => {
    const missing = await t.api("POST", "/api/v1/services/shop/runs", { body: { sha: "0123456789abcdef0123456789abcdef01234567" } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /commit 0123456789abcdef0123456789abcdef01234567 is not in the repository/);

    const first = (await runGit(repo, "rev-list", "--max-parents=0", "main")).trim();
    const bare = await t.api("POST", "/api/v1/services/shop/runs", { body: { sha: first } });
    assert.equal(bare.status, 400);
    assert.match(bare.body.error.message, new RegExp(`there is no slipway.yaml at the root of ${first.slice(0, 12)}`));
  });
});
