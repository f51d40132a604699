import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { SlipwayError } from "../../src/core/errors.ts";
import { ensureMirror, fetchMirror } from "../../src/git/mirror.ts";
import { planDeployRefs, pushDeployRefs, pushRefUpdates } from "../../src/git/refs.ts";
import { commit, createRepoWithRemote, headOf, runGit, tempDir } from "../support/git.ts";

const isCode = (code: string) => (error: unknown) => error instanceof SlipwayError && error.code === code;
const live = { live: "live", lastLive: "last_live" };

describe("deployment refs", () => {
  const roots: string[] = [];
  let work: string;
  let remote: string;
  let mirrorDir: string;
  let first: string;

  beforeEach(async () => {
    const root = await tempDir();
    roots.push(root);
    ({ work, remote, sha: first } = await createRepoWithRemote(root));
    mirrorDir = join(root, "mirror.git");
  });
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  const remoteRef = async (ref: string) => (await runGit(remote, "for-each-ref", "--format=%(objectname) %(objecttype)", ref)) || null;

  it("creates live on the first deployment, with no last_live to move", async () => {
    const pushed = await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live });
    assert.deepEqual(pushed, [{ ref: "refs/heads/live", expected: null, after: first, outcome: "created" }]);
    assert.equal(await headOf(remote, "live"), first);
    assert.equal(await remoteRef("refs/heads/last_live"), null);
  });

  it("moves last_live to where live was, then live to the deployed commit, and tags it", async () => {
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live, tag: "deploy/production/1" });
    const second = await commit(work, { "b.txt": "b\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");

    const pushed = await pushDeployRefs({ url: remote, mirrorDir, sha: second, moveBranches: live, tag: "deploy/production/2" });
    assert.deepEqual(
      pushed.map((p) => [p.ref, p.after, p.outcome]),
      [
        ["refs/heads/last_live", first, "created"],
        ["refs/heads/live", second, "updated"],
        ["refs/tags/deploy/production/2", second, "created"],
      ],
    );
    assert.equal(await headOf(remote, "live"), second);
    assert.equal(await headOf(remote, "last_live"), first);
    // Lightweight tags: the ref points at the commit itself, not at a tag object.
    assert.equal(await remoteRef("refs/tags/deploy/production/1"), `${first} commit`);
    assert.equal(await remoteRef("refs/tags/deploy/production/2"), `${second} commit`);
  });

  it("moves live backwards for a rollback to an older commit", async () => {
    const second = await commit(work, { "b.txt": "b\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live });
    await pushDeployRefs({ url: remote, mirrorDir, sha: second, moveBranches: live });
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live });
    assert.equal(await headOf(remote, "live"), first);
    assert.equal(await headOf(remote, "last_live"), second);
  });

  it("changes nothing when the same deployment's refs are pushed again", async () => {
    const second = await commit(work, { "b.txt": "b\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live });
    await pushDeployRefs({ url: remote, mirrorDir, sha: second, moveBranches: live, tag: "deploy/staging/7" });
    const again = await pushDeployRefs({ url: remote, mirrorDir, sha: second, moveBranches: live, tag: "deploy/staging/7" });
    assert.deepEqual(
      again.map((p) => [p.ref, p.outcome]),
      [
        ["refs/heads/live", "unchanged"],
        ["refs/tags/deploy/staging/7", "unchanged"],
      ],
    );
    assert.equal(await headOf(remote, "last_live"), first);
  });

  it("refuses to move a tag that already names another commit, and changes no branch", async () => {
    const second = await commit(work, { "b.txt": "b\n" }, "second");
    await runGit(work, "push", "--quiet", "origin", "main");
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live, tag: "deploy/production/1" });
    await assert.rejects(pushDeployRefs({ url: remote, mirrorDir, sha: second, moveBranches: live, tag: "deploy/production/1" }), isCode("conflict"));
    assert.equal(await headOf(remote, "live"), first);
    assert.equal(await remoteRef("refs/heads/last_live"), null);
  });

  it("does not clobber a live branch someone moved after Slipway looked", async () => {
    const second = await commit(work, { "b.txt": "b\n" }, "second");
    const third = await commit(work, { "c.txt": "c\n" }, "third");
    await runGit(work, "push", "--quiet", "origin", "main");
    await pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: live });

    // Slipway reads the heads and plans; then, before it pushes, a person moves live by hand.
    await ensureMirror(mirrorDir, remote);
    const plan = planDeployRefs(await fetchMirror(mirrorDir), { sha: third, moveBranches: live, tag: "deploy/production/3" });
    await runGit(work, "push", "--quiet", "--force", "origin", `${second}:refs/heads/live`);

    await assert.rejects(pushRefUpdates(mirrorDir, plan), (error: unknown) => isCode("conflict")(error) && /stale info|atomic/.test((error as Error).message));
    assert.equal(await headOf(remote, "live"), second);
    assert.equal(await remoteRef("refs/heads/last_live"), null);
    assert.equal(await remoteRef("refs/tags/deploy/production/3"), null, "an atomic push changes nothing when one ref is refused");
  });

  it("refuses a commit the repository does not have, and names git would not accept", async () => {
    await assert.rejects(pushDeployRefs({ url: remote, mirrorDir, sha: "a".repeat(40), tag: "deploy/x/1" }), isCode("not_found"));
    await assert.rejects(pushDeployRefs({ url: remote, mirrorDir, sha: first, tag: "deploy/bad..name" }), isCode("invalid_input"));
    await assert.rejects(pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: { live: "live", lastLive: "live" } }), isCode("invalid_input"));
    await assert.rejects(pushDeployRefs({ url: remote, mirrorDir, sha: first, moveBranches: { lastLive: "last_live" } }), isCode("invalid_input"));
  });
});

describe("planDeployRefs", () => {
  const A = "a".repeat(40);
  const B = "b".repeat(40);
  const C = "c".repeat(40);

  it("leases each branch at the value it was seen with", () => {
    assert.deepEqual(planDeployRefs(new Map([["live", A], ["last_live", B]]), { sha: C, moveBranches: live }), [
      { ref: "refs/heads/last_live", expected: B, after: A },
      { ref: "refs/heads/live", expected: A, after: C },
    ]);
  });

  it("plans only a tag when no branches are asked for, and nothing when nothing is", () => {
    assert.deepEqual(planDeployRefs(new Map(), { sha: A, tag: "deploy/dev/4" }), [{ ref: "refs/tags/deploy/dev/4", after: A }]);
    assert.deepEqual(planDeployRefs(new Map(), { sha: A }), []);
  });
});
