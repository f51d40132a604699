// A runner slot's workspace (src/agent/runner/slot.ts) against real git repositories: reused from
// job to job, it is still exactly a fresh checkout of the commit: the test does to it what jobs
// do (build output, ignored files, edits, deletions, nested repositories, hidden index flags;
// branches, tags, config, hooks, commits), checks it out again, and compares it with a fresh
// `git clone` of the same commit, file by file and ref by ref.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { WorkspaceSlot } from "../../src/agent/runner/slot.ts";
import { MirrorLocks, runnerLayout, type CheckoutOptions } from "../../src/agent/runner/workspace.ts";
import { commit, createRepo, runGit, tempDir } from "../support/git.ts";

const run = promisify(execFile);

let root: string;
let repo: string;
let sha: string;
const locks = new MirrorLocks();
const debug: string[] = [];
const options = (): CheckoutOptions => ({ layout: runnerLayout(join(root, "data")), locks, fetch: false, log: () => undefined, debug: (text) => debug.push(text) });

/** Every file and link under `dir` but .git, with a hash of its content, and the mode bits git keeps. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const rel = relative(dir, path);
    if (rel === ".git" || rel.startsWith(`.git/`)) continue;
    if (entry.isDirectory()) {
      files.push(`${rel}/`);
      continue;
    }
    const info = await stat(path);
    files.push(`${rel} ${(info.mode & 0o111) !== 0 ? "x" : "-"} ${createHash("sha256").update(await readFile(path)).digest("hex").slice(0, 12)}`);
  }
  return files.sort();
}

/** What a job can see of the repository: its refs, HEAD, its config's user settings, its hooks and its status. */
async function repository(dir: string): Promise<Record<string, string>> {
  return {
    refs: await runGit(dir, "for-each-ref", "--format=%(objectname) %(refname)"),
    head: await runGit(dir, "rev-parse", "HEAD"),
    symbolicHead: await runGit(dir, "rev-parse", "--abbrev-ref", "HEAD"),
    user: await runGit(dir, "config", "--get-regexp", "^user\\.").catch(() => "(none)"),
    hooks: (await readdir(join(dir, ".git", "hooks")).catch(() => [])).join(","),
    status: await runGit(dir, "status", "--porcelain", "--ignored", "--untracked-files=all"),
  };
}

/** A fresh clone of the commit, as a first job would get it, to compare with. */
async function freshCheckout(commitSha: string): Promise<{ files: string[]; repository: Record<string, string> }> {
  const fresh = new WorkspaceSlot(join(root, `fresh-${commitSha.slice(0, 8)}-${Date.now()}`));
  await fresh.checkout({ repository_url: repo, sha: commitSha }, options());
  const result = { files: await tree(fresh.dir), repository: await repository(fresh.dir) };
  await rm(fresh.dir, { recursive: true, force: true });
  return result;
}

/** Runs `script` in `dir` as a job's step would, git's user configuration left out. */
async function sh(dir: string, script: string): Promise<void> {
  await run("sh", ["-ec", script], { cwd: dir, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });
}

before(async () => {
  root = await tempDir("slipway-slot-test-");
  repo = await createRepo(join(root, "repo"));
  sha = await commit(repo, { ".gitignore": "build/\n*.log\n", "src/app.js": "console.log('app')\n", "src/lib/util.js": "export const x = 1;\n", "run.sh": "#!/bin/sh\necho run\n", "README.md": "hello\n" }, "the service");
  await chmod(join(repo, "run.sh"), 0o755);
  sha = await commit(repo, { "run.sh": "#!/bin/sh\necho run\n" }, "an executable script");
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("runner slot workspace", () => {
  it("reuses its workspace and gives the next job exactly the commit's files: what a job built, ignored, edited, deleted or hid from git is gone", async () => {
    const slot = new WorkspaceSlot(join(root, "slot-files"));
    await slot.checkout({ repository_url: repo, sha }, options());
    const expected = await freshCheckout(sha);
    assert.deepEqual(await tree(slot.dir), expected.files);
    const gitDir = (await stat(join(slot.dir, ".git"))).ino;

    // What the steps of a job commonly leave behind, and a few things git would rather not see.
    await sh(
      slot.dir,
      [
        "mkdir -p build node_modules/pkg out",
        "echo built > build/app.min.js",
        "echo dep > node_modules/pkg/index.js",
        "echo untracked > out/report.txt",
        "echo log > debug.log",
        "echo edited >> src/app.js",
        "rm src/lib/util.js",
        "chmod -x run.sh",
        "git init -q nested && echo inner > nested/file",
        "git update-index --skip-worktree README.md && echo hidden > README.md",
      ].join("\n"),
    );
    debug.length = 0;
    await slot.checkout({ repository_url: repo, sha }, options());
    assert.deepEqual(debug, [], "the workspace was reset, not cloned again");
    assert.equal((await stat(join(slot.dir, ".git"))).ino, gitDir);
    assert.deepEqual(await tree(slot.dir), expected.files);
    assert.deepEqual(await repository(slot.dir), expected.repository);
  });

  it("clones afresh when a job changed the repository itself: a config setting, a hook, a branch, a tag, a staged file, a commit", async () => {
    const slot = new WorkspaceSlot(join(root, "slot-meta"));
    await slot.checkout({ repository_url: repo, sha }, options());
    const expected = await freshCheckout(sha);
    const changes = [
      "git config user.name 'Left Over'",
      "mkdir -p .git/hooks && printf '#!/bin/sh\\ntouch hooked\\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout",
      "git branch left-over",
      "git tag v-left-over",
      "echo staged > staged.txt && git add staged.txt",
      "echo more >> README.md && git -c user.name=x -c user.email=x@example.com commit -qam 'a commit on the detached head'",
    ];
    for (const change of changes) {
      await sh(slot.dir, change);
      debug.length = 0;
      await slot.checkout({ repository_url: repo, sha }, options());
      assert.deepEqual(debug, ["cloning afresh: the last job changed the repository (config, hooks, refs, objects or other files under .git)"], change);
      assert.deepEqual(await tree(slot.dir), expected.files, change);
      assert.deepEqual(await repository(slot.dir), expected.repository, change);
    }
  });

  it("clones afresh once the repository has new branches or tags, so that a job sees them", async () => {
    const first = new WorkspaceSlot(join(root, "slot-refs-1"));
    const second = new WorkspaceSlot(join(root, "slot-refs-2"));
    await first.checkout({ repository_url: repo, sha }, options());
    await second.checkout({ repository_url: repo, sha }, options());
    const next = await commit(repo, { "CHANGELOG.md": "1.1\n" }, "release 1.1");
    await runGit(repo, "tag", "v1.1.0");
    debug.length = 0;
    // The first slot meets a commit the mirror lacks: the mirror is fetched and the slot cloned afresh.
    await first.checkout({ repository_url: repo, sha: next }, options());
    assert.equal(debug.length, 1);
    assert.match(debug[0] ?? "", /^cloning afresh: the workspace could not be reset: git .*checkout/);
    // The second slot's workspace was cloned before the fetch: its origin/main and tags are stale.
    debug.length = 0;
    await second.checkout({ repository_url: repo, sha: next }, options());
    assert.deepEqual(debug, ["cloning afresh: the repository's branches or tags changed"]);
    const fresh = await freshCheckout(next);
    for (const slot of [first, second]) {
      assert.equal(await runGit(slot.dir, "describe", "--tags"), "v1.1.0");
      assert.equal(await runGit(slot.dir, "rev-parse", "origin/main"), next);
      assert.deepEqual(await tree(slot.dir), fresh.files);
      assert.equal(await runGit(slot.dir, "remote", "get-url", "origin"), repo, "steps see the repository's real remote");
    }
  });

  it("clones afresh for a job of another repository", async () => {
    const other = await createRepo(join(root, "other"));
    const otherSha = await commit(other, { "OTHER.md": "another service\n" }, "another service");
    const slot = new WorkspaceSlot(join(root, "slot-other"));
    await slot.checkout({ repository_url: repo, sha }, options());
    debug.length = 0;
    await slot.checkout({ repository_url: other, sha: otherSha }, options());
    assert.deepEqual(debug, ["cloning afresh: the last job was of another repository"]);
    assert.deepEqual(await tree(slot.dir), ["OTHER.md - " + createHash("sha256").update("another service\n").digest("hex").slice(0, 12)]);
  });

  it("starts from an empty workspace in a new runner process, whatever an earlier one left there", async () => {
    const dir = join(root, "slot-restart");
    await mkdir(join(dir, "stale"), { recursive: true });
    await writeFile(join(dir, "stale", "file"), "from before the restart\n");
    const slot = new WorkspaceSlot(dir);
    debug.length = 0;
    await slot.checkout({ repository_url: repo, sha }, options());
    assert.deepEqual(debug, ["cloning afresh: no workspace from this runner process yet"]);
    assert.deepEqual(await tree(slot.dir), (await freshCheckout(sha)).files);
  });
});
