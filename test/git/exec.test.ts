import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { git, GitError, gitText } from "../../src/git/exec.ts";
import { tempDir } from "../support/git.ts";

describe("git exec", () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("returns stdout and accepts the exit codes it is told are answers", async () => {
    assert.match(await gitText(["--version"]), /^git version \d/);
    const { code } = await git(["config", "--file", `${root}/none`, "--get", "no.such"], { okCodes: [1] });
    assert.equal(code, 1);
  });

  it("says which command failed and what git said", async () => {
    await assert.rejects(git(["rev-parse", "--verify", "no-such-ref"], { cwd: root }), (error: unknown) => {
      assert.ok(error instanceof GitError);
      assert.equal(error.code, "unavailable");
      assert.match(error.message, /^git rev-parse --verify no-such-ref exited with code 128: fatal: not a git repository/);
      return true;
    });
  });

  it("never shows a password embedded in a URL, in the command or in git's message", async () => {
    // Port 1 on loopback refuses the connection at once.
    await assert.rejects(git(["ls-remote", "https://alice:hunter2@127.0.0.1:1/repo.git"], { timeoutMs: 20_000 }), (error: unknown) => {
      assert.ok(error instanceof GitError);
      assert.doesNotMatch(error.message, /hunter2/);
      assert.doesNotMatch(error.stderr, /hunter2/);
      assert.match(error.command, /https:\/\/\*\*\*@127\.0\.0\.1:1\/repo\.git/);
      return true;
    });
  });

  it("kills git and whatever it started when the timeout is up", async () => {
    const started = Date.now();
    // An alias starting with "!" runs through the shell: git -> sh -> sleep, all in one group.
    await assert.rejects(git(["-c", "alias.nap=!sleep 30", "nap"], { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof GitError);
      assert.equal(error.timedOut, true);
      assert.match(error.message, /timed out after 300 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
  });

  it("stops git when it writes more than the output limit", async () => {
    await assert.rejects(git(["-c", "alias.talk=!yes slipway | head -c 1000000", "talk"], { maxOutputBytes: 10_000 }), /wrote more than 10000 bytes/);
  });

  it("does not prompt for a password a repository asks for", async () => {
    // With no terminal and no askpass, the credential request fails instead of waiting.
    await assert.rejects(
      git(["credential", "fill"], { input: "protocol=https\nhost=example.com\n\n", timeoutMs: 20_000 }),
      (error: unknown) => error instanceof GitError && !error.timedOut && /terminal prompts disabled|could not read Username/i.test(error.stderr),
    );
  });
});
