// Fetching over HTTP(S) from a real smart-HTTP server: git's own git-http-backend, run as CGI.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GitError } from "../../src/git/exec.ts";
import { ensureMirror, fetchMirror, readFileAt } from "../../src/git/mirror.ts";
import { commit, createRepoWithRemote, gitHttpBackendPath, runGit, startGitHttpServer, tempDir, type GitHttpServer } from "../support/git.ts";

const backend = await gitHttpBackendPath();

describe("repository mirror over HTTP", { skip: backend === null ? "git-http-backend is not installed" : false }, () => {
  let root: string;
  let work: string;
  let first: string;
  let open: GitHttpServer;
  let locked: GitHttpServer;

  before(async () => {
    root = await tempDir();
    ({ work, sha: first } = await createRepoWithRemote(root, { "slipway.yaml": "jobs: {}\n" }));
    open = await startGitHttpServer(root);
    locked = await startGitHttpServer(root, { auth: { username: "ci", password: "hunter2" } });
  });
  after(async () => {
    await open.close();
    await locked.close();
    await rm(root, { recursive: true, force: true });
  });

  it("mirrors a repository served over http://", async () => {
    const mirror = join(root, "http-mirror.git");
    await ensureMirror(mirror, `${open.url}/remote.git`);
    assert.deepEqual([...(await fetchMirror(mirror))], [["main", first]]);
    assert.equal(await readFileAt(mirror, first, "slipway.yaml"), "jobs: {}\n");

    const second = await commit(work, { "b.txt": "b\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");
    assert.equal((await fetchMirror(mirror)).get("main"), second);
  });

  it("uses credentials given in the URL", async () => {
    const mirror = join(root, "auth-mirror.git");
    await ensureMirror(mirror, `http://ci:hunter2@${locked.url.slice("http://".length)}/remote.git`);
    assert.ok((await fetchMirror(mirror)).has("main"));
  });

  it("fails at once, without prompting, when the server wants a password it was not given", async () => {
    const mirror = join(root, "no-auth-mirror.git");
    await ensureMirror(mirror, `${locked.url}/remote.git`);
    const refusedBefore = locked.unauthorized();
    await assert.rejects(fetchMirror(mirror, { timeoutMs: 20_000 }), (error: unknown) => error instanceof GitError && !error.timedOut && /terminal prompts disabled|could not read Username/i.test(error.message));
    assert.ok(locked.unauthorized() > refusedBefore);
  });

  it("never repeats a wrong password in its error", async () => {
    const mirror = join(root, "bad-auth-mirror.git");
    await ensureMirror(mirror, `http://ci:wrong-secret@${locked.url.slice("http://".length)}/remote.git`);
    await assert.rejects(fetchMirror(mirror, { timeoutMs: 20_000 }), (error: unknown) => {
      assert.ok(error instanceof GitError);
      assert.doesNotMatch(`${error.message} ${error.command} ${error.stderr}`, /wrong-secret/);
      return true;
    });
  });
});
