// A bare mirror of a service's repository, kept by the caller in a directory of its choosing
// (for example `<dataDir>/git/<service>.git`). Polling fetches into it; pipelines read
// `slipway.yaml`, commit details and `git describe` from it without a working tree.
//
// Only branches and tags are mirrored (`refs/heads/*`, `refs/tags/*`), not everything under
// refs/ as `git clone --mirror` would: a GitHub repository also advertises one ref per pull
// request, which Slipway has no use for.
//
// Concurrency: what writes to one mirror (creating it, fetching, pushing deployment refs) is
// serialized within this process, a queue per directory; reads run beside it, as git allows.
// Across processes — several servers sharing one data directory — git's own lock files keep a
// mirror consistent: a second fetch that collides fails with "cannot lock ref" rather than corrupt
// anything, and the next poll succeeds. Lock files left by a git that was killed (kill -9 of the
// server mid-fetch) would fail every later fetch; a fetch that meets one older than the fetch
// timeout removes it and tries once more.
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { invalidInput, notFound } from "../core/errors.ts";
import { git, gitText, GitError } from "./exec.ts";
import { assertRepositoryUrl } from "./repository-url.ts";

export interface CommitInfo {
  sha: string;
  author_name: string;
  author_email: string;
  /** The subject: the first line of the message. */
  message: string;
  /** Committer date, ms since the epoch. */
  committed_at: number;
}

const FETCH_TIMEOUT_MS = 10 * 60_000;
const ZERO_SHA = /^0+$/;

/** Creates the bare mirror if it does not exist, and points it at `url` (which may have changed). */
export async function ensureMirror(dir: string, url: string): Promise<void> {
  assertRepositoryUrl(url);
  await exclusively(dir, async () => {
    // `git init` again finishes a repository an interrupted one left half made.
    if (!existsSync(join(dir, "HEAD")) || !existsSync(join(dir, "config"))) {
      await mkdir(dir, { recursive: true });
      await git(["init", "--quiet", "--bare", resolve(dir)]);
    }
    const current = await gitText(["config", "--get", "remote.origin.url"], { cwd: dir, okCodes: [1] });
    if (current !== url) await git(["config", "remote.origin.url", url], { cwd: dir });
  });
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `task` once every task queued earlier for the mirror in `dir` has finished: one git command
 * that writes to a mirror at a time, in this process.
 */
export function exclusively<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const key = resolve(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

/**
 * Brings the mirror up to date with its remote (branches and tags; deleted ones are pruned) and
 * returns the branch heads: branch name (`main`, `release/1.2`) -> commit sha.
 */
export function fetchMirror(dir: string, options: { timeoutMs?: number } = {}): Promise<Map<string, string>> {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  return exclusively(dir, async () => {
    const fetch = () => git(["fetch", "--quiet", "--prune", "--no-tags", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], { cwd: dir, timeoutMs });
    try {
      await fetch();
    } catch (error) {
      if (!(error instanceof GitError) || !/\.lock'?: File exists/i.test(error.stderr)) throw error;
      if ((await removeStaleLocks(dir, timeoutMs)) === 0) throw error;
      await fetch();
    }
    return branchHeads(dir);
  });
}

/** The branch heads the mirror has now, without fetching. */
export async function branchHeads(dir: string): Promise<Map<string, string>> {
  const text = await gitText(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"], { cwd: dir });
  const heads = new Map<string, string>();
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space === -1) continue;
    heads.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
  }
  return heads;
}

/** The content of `path` at commit `sha`, or null when the commit has no such file. */
export async function readFileAt(dir: string, sha: string, path: string): Promise<string | null> {
  assertRevision(sha);
  const object = `${sha}:${path.replace(/^(\.\/|\/)+/, "")}`;
  // --batch reads the object name from stdin, so a path is never taken for an option, and a
  // missing file is an answer ("missing") rather than an error.
  const { stdout } = await git(["cat-file", "--batch"], { cwd: dir, input: `${object}\n` });
  const headerEnd = stdout.indexOf(10);
  const header = stdout.subarray(0, headerEnd).toString("utf8");
  const [, type, size] = header.split(" ");
  if (type === "blob" && size !== undefined) return stdout.subarray(headerEnd + 1, headerEnd + 1 + Number(size)).toString("utf8");
  if (type === undefined || header.endsWith(" missing")) await assertCommitExists(dir, sha);
  return null;
}

/** Every file path in the tree of commit `sha`. */
export async function listFilesAt(dir: string, sha: string): Promise<string[]> {
  assertRevision(sha);
  await assertCommitExists(dir, sha);
  const { stdout } = await git(["ls-tree", "-r", "-z", "--name-only", `${sha}^{commit}`], { cwd: dir });
  return stdout.toString("utf8").split("\0").filter((name) => name.length > 0);
}

const LOG_FORMAT = "%H%x1f%an%x1f%ae%x1f%ct%x1f%s%x1e";

function parseLog(text: string): CommitInfo[] {
  return text
    .split("\x1e")
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [sha = "", author_name = "", author_email = "", seconds = "0", message = ""] = record.split("\x1f");
      return { sha, author_name, author_email, message, committed_at: Number(seconds) * 1000 };
    });
}

/** Author, subject and date of commit `sha`. */
export async function commitInfo(dir: string, sha: string): Promise<CommitInfo> {
  assertRevision(sha);
  await assertCommitExists(dir, sha);
  const [info] = parseLog(await gitText(["log", "-1", `--format=${LOG_FORMAT}`, `${sha}^{commit}`, "--"], { cwd: dir }));
  if (!info) throw notFound("commit", sha);
  return info;
}

/**
 * The commits a push of `oldSha` -> `newSha` brought, newest first, at most `limit` (default 250).
 * For a new branch (`oldSha` null), or when the old commit is not in the mirror (a force push
 * whose old history is gone), only `newSha` itself: what else is "new" on a new branch depends
 * on which branch it was cut from, which git does not record.
 */
export async function commitsBetween(dir: string, oldSha: string | null, newSha: string, options: { limit?: number } = {}): Promise<CommitInfo[]> {
  assertRevision(newSha);
  if (oldSha === null || ZERO_SHA.test(oldSha) || !(await commitExists(dir, oldSha))) return [await commitInfo(dir, newSha)];
  await assertCommitExists(dir, newSha);
  const limit = options.limit ?? 250;
  return parseLog(await gitText(["log", `--max-count=${limit}`, `--format=${LOG_FORMAT}`, `${oldSha}..${newSha}`, "--"], { cwd: dir }));
}

/**
 * `git describe --tags --always` of `sha`, for version templates (`v1.4.0-3-gabc1234`). Tags
 * matching `exclude` are not used; by default the `deploy/*` tags Slipway itself may push, so that
 * deploying a commit does not change the version of the next build.
 */
export async function describe(dir: string, sha: string, options: { exclude?: string[] } = {}): Promise<string> {
  assertRevision(sha);
  await assertCommitExists(dir, sha);
  const exclude = (options.exclude ?? ["deploy/*"]).map((pattern) => `--exclude=${pattern}`);
  return gitText(["describe", "--tags", "--always", ...exclude, `${sha}^{commit}`], { cwd: dir });
}

/** True when the mirror has commit `sha`. */
export async function commitExists(dir: string, sha: string): Promise<boolean> {
  assertRevision(sha);
  const { code } = await git(["cat-file", "-e", `${sha}^{commit}`], { cwd: dir, okCodes: [1, 128] });
  return code === 0;
}

async function assertCommitExists(dir: string, sha: string): Promise<void> {
  if (!(await commitExists(dir, sha))) throw notFound("commit", sha);
}

/** Revisions come from webhooks and users: never let one be read as an option. */
function assertRevision(rev: string): void {
  if (!/^[0-9a-f]{4,64}$/i.test(rev)) throw invalidInput(`${JSON.stringify(rev.slice(0, 80))} is not a commit sha`);
}

/** Removes lock files older than `olderThanMs` under the mirror's refs; returns how many. */
async function removeStaleLocks(dir: string, olderThanMs: number): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  const visit = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        await visit(path);
      } else if (entry.name.endsWith(".lock") && (await stat(path)).mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
  };
  await visit(join(dir, "refs"));
  for (const name of ["packed-refs.lock", "shallow.lock", "config.lock"]) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
