import assert from "node:assert/strict";
import { mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SlipwayError } from "../../src/core/errors.ts";
import { commitInfo, commitsBetween, describe as gitDescribe, ensureMirror, fetchMirror, listFilesAt, readFileAt } from "../../src/git/mirror.ts";
import { pollRepository } from "../../src/git/poller.ts";
import { commit, createRepo, createRepoWithRemote, runGit, TEST_AUTHOR, tempDir } from "../support/git.ts";

const isCode = (code: string) => (error: unknown) => error instanceof SlipwayError && error.code === code;

describe("repository mirror", () => {
  let root: string;
  let work: string;
  let remote: string;
  let first: string;
  let mirror: string;

  before(async () => {
    root = await tempDir();
    ({ work, remote, sha: first } = await createRepoWithRemote(root, { "slipway.yaml": "jobs: {}\n", "src/app.js": "console.log(1)\n" }));
    mirror = join(root, "mirrors", "shop.git");
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("mirrors the branches of a repository given by its local path", async () => {
    await ensureMirror(mirror, remote);
    const heads = await fetchMirror(mirror);
    assert.deepEqual([...heads], [["main", first]]);
  });

  it("follows new commits, new branches and deleted branches", async () => {
    const second = await commit(work, { "src/app.js": "console.log(2)\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");
    await runGit(work, "push", "--quiet", "origin", `${first}:refs/heads/release/1.0`);
    assert.deepEqual(Object.fromEntries(await fetchMirror(mirror)), { main: second, "release/1.0": first });

    await runGit(work, "push", "--quiet", "origin", ":refs/heads/release/1.0");
    assert.deepEqual(Object.fromEntries(await fetchMirror(mirror)), { main: second });
  });

  it("reads a file at a commit, and null for a file or folder that is not there", async () => {
    assert.equal(await readFileAt(mirror, first, "slipway.yaml"), "jobs: {}\n");
    assert.equal(await readFileAt(mirror, first, "./src/app.js"), "console.log(1)\n");
    assert.equal(await readFileAt(mirror, first, "missing.yaml"), null);
    assert.equal(await readFileAt(mirror, first, "src"), null);
  });

  it("refuses a commit it does not have, and a revision that is not a sha", async () => {
    await assert.rejects(readFileAt(mirror, "f".repeat(40), "slipway.yaml"), isCode("not_found"));
    await assert.rejects(readFileAt(mirror, "--output=/tmp/x", "slipway.yaml"), isCode("invalid_input"));
    await assert.rejects(commitInfo(mirror, "main"), isCode("invalid_input"));
  });

  it("lists every file of a commit", async () => {
    assert.deepEqual(await listFilesAt(mirror, first), ["slipway.yaml", "src/app.js"]);
  });

  it("gives a commit's author, subject and committer date", async () => {
    const sha = await commit(work, { "notes.md": "x\n" }, "Add notes\n\nWith a body that is not the subject.", { author: { name: "Grace Hopper", email: "grace@example.com" }, at: 1_750_000_000 });
    await runGit(work, "push", "--quiet", "origin", "main");
    await fetchMirror(mirror);
    assert.deepEqual(await commitInfo(mirror, sha), { sha, author_name: "Grace Hopper", author_email: "grace@example.com", message: "Add notes", committed_at: 1_750_000_000_000 });
  });

  it("lists the commits a push brought, newest first", async () => {
    const before = (await fetchMirror(mirror)).get("main") ?? "";
    const shas = [];
    for (const n of [1, 2, 3]) shas.push(await commit(work, { "count.txt": `${n}\n` }, `count ${n}`));
    await runGit(work, "push", "--quiet", "origin", "main");
    await fetchMirror(mirror);
    const commits = await commitsBetween(mirror, before, shas[2] ?? "");
    assert.deepEqual(
      commits.map((c) => [c.sha, c.message, c.author_name]),
      [
        [shas[2], "count 3", TEST_AUTHOR.name],
        [shas[1], "count 2", TEST_AUTHOR.name],
        [shas[0], "count 1", TEST_AUTHOR.name],
      ],
    );
    assert.equal((await commitsBetween(mirror, before, shas[2] ?? "", { limit: 2 })).length, 2);
    // A new branch, or an old head the mirror never saw: just the pushed commit.
    assert.deepEqual((await commitsBetween(mirror, null, shas[2] ?? "")).map((c) => c.sha), [shas[2]]);
    assert.deepEqual((await commitsBetween(mirror, "0".repeat(40), shas[2] ?? "")).map((c) => c.sha), [shas[2]]);
    assert.deepEqual((await commitsBetween(mirror, "e".repeat(40), shas[2] ?? "")).map((c) => c.sha), [shas[2]]);
  });

  it("describes a commit from the mirrored tags, leaving deploy tags out", async () => {
    const head = (await fetchMirror(mirror)).get("main") ?? "";
    await runGit(work, "tag", "v1.0.0", first);
    await runGit(work, "tag", "deploy/production/1", head);
    await runGit(work, "push", "--quiet", "origin", "--tags");
    await fetchMirror(mirror);
    assert.match(await gitDescribe(mirror, head), /^v1\.0\.0-\d+-g[0-9a-f]{7,}$/);
    assert.equal(await gitDescribe(mirror, first), "v1.0.0");
    assert.equal(await gitDescribe(mirror, head, { exclude: [] }), "deploy/production/1");
  });

  it("keeps one consistent mirror when fetches of it overlap", async () => {
    await commit(work, { "race.txt": "1\n" }, "race");
    await runGit(work, "push", "--quiet", "origin", "main");
    const results = await Promise.all(Array.from({ length: 6 }, () => fetchMirror(mirror)));
    const expected = Object.fromEntries(results[0] ?? []);
    for (const heads of results) assert.deepEqual(Object.fromEntries(heads), expected);
    await runGit(mirror, "fsck", "--no-progress");
  });

  it("recovers from a lock file left behind by a git that was killed", async () => {
    const lock = join(mirror, "refs", "heads", "main.lock");
    await writeFile(lock, "");
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, longAgo, longAgo);
    await commit(work, { "after-crash.txt": "1\n" }, "after crash");
    await runGit(work, "push", "--quiet", "origin", "main");
    assert.equal((await fetchMirror(mirror)).get("main"), await runGit(work, "rev-parse", "HEAD"));
  });

  it("follows a repository whose URL changed, given as file://", async () => {
    const moved = join(root, "moved.git");
    await runGit(root, "clone", "--quiet", "--bare", remote, moved);
    await ensureMirror(mirror, `file://${moved}`);
    assert.equal(await runGit(mirror, "config", "remote.origin.url"), `file://${moved}`);
    assert.equal((await fetchMirror(mirror)).get("main"), await runGit(moved, "rev-parse", "main"));
  });

  it("fails with git's reason when the repository is not there", async () => {
    const empty = join(root, "mirrors", "gone.git");
    await mkdir(empty, { recursive: true });
    await ensureMirror(empty, join(root, "does-not-exist.git"));
    await assert.rejects(fetchMirror(empty), (error: unknown) => error instanceof SlipwayError && /does-not-exist\.git/.test(error.message));
  });

  it("polls: the first poll only records the heads, later ones report what moved", async () => {
    const polled = join(root, "mirrors", "polled.git");
    const firstPoll = await pollRepository(polled, remote, null);
    assert.deepEqual(firstPoll.changes, []);
    const before = firstPoll.heads.get("main");
    const sha = await commit(work, { "poll.txt": "1\n" }, "poll");
    await runGit(work, "push", "--quiet", "origin", "main", "main:refs/heads/feature");
    const second = await pollRepository(polled, remote, firstPoll.heads);
    assert.deepEqual(second.changes, [
      { branch: "feature", before: null, after: sha },
      { branch: "main", before, after: sha },
    ]);
    assert.deepEqual((await pollRepository(polled, remote, second.heads)).changes, []);
  });

  it("refuses a URL git should not be given", async () => {
    await assert.rejects(ensureMirror(join(root, "mirrors", "bad.git"), "ext::sh -c touch% /tmp/pwned"), isCode("invalid_input"));
  });
});

describe("repository mirror of an empty repository", () => {
  it("has no branches", async () => {
    const root = await tempDir();
    try {
      const remote = await createRepo(join(root, "empty.git"), { bare: true });
      const mirror = join(root, "mirror.git");
      await ensureMirror(mirror, remote);
      assert.deepEqual([...(await fetchMirror(mirror))], []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
