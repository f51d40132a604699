// A runner slot's workspace, <data-dir>/runner/workspaces/slot-<n>/: one per slot, reused from job
// to job when it can be made exactly what a fresh checkout would be, cloned afresh when it cannot.
//
// Reuse (the usual case: the slot's last job was of the same repository) costs two git commands:
//   git checkout --force --detach <sha>   tracked files as the commit has them, whatever the last
//                                         job did to them (edited, deleted, staged)
//   git clean -ffdx                       every other file gone: untracked, ignored (node_modules,
//                                         build output), nested repositories
// and touches only what differs from the last job's tree. A fresh clone (the workspace emptied,
// `git clone --no-checkout --shared --template=` of the runner's mirror, then the checkout) is
// made instead when
//   - the slot has no workspace from this runner process yet (its first job after a start),
//   - the workspace is of another repository,
//   - the mirror's branches or tags changed since the clone (the workspace's origin/* branches and
//     tags would be stale),
//   - the last job changed the repository itself: its config, hooks, refs (a branch, a tag, a
//     commit), objects, or any other file under .git (a merge or rebase left in progress); this is
//     what the fingerprint below compares,
//   - the reuse failed (say the commit is not in the mirror yet: it is fetched first).
// So a job never sees a file, a ref, a hook or a setting that an earlier job left.
import { createHash } from "node:crypto";
import { open, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RunnerJob } from "../../contracts/runner.ts";
import { git } from "../../git/exec.ts";
import { updateMirror, mirrorDirFor, type CheckoutOptions } from "./workspace.ts";

/** Our own git commands never run a hook a job may have installed, and keep no reflog of the checkouts. */
const SAFE = ["-c", "core.hooksPath=/dev/null", "-c", "core.logAllRefUpdates=false"];

interface SlotState {
  mirror: string;
  /** The mirror's refs when the workspace was cloned (MirrorLocks.refs). */
  refs: string;
  /** The repository's metadata right after the last checkout. */
  fingerprint: string;
}

export class WorkspaceSlot {
  readonly dir: string;
  #state: SlotState | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Makes the workspace a clean checkout of `job.sha`; returns the mirror's directory. */
  async checkout(job: Pick<RunnerJob, "repository_url" | "sha">, options: CheckoutOptions): Promise<string> {
    const mirror = mirrorDirFor(options.layout, job.repository_url);
    if (options.fetch) await options.locks.run(mirror, () => updateMirror(mirror, job, options));
    let reason = await this.#whyNotReuse(mirror, options);
    if (reason === null) {
      try {
        await this.#reset(job.sha);
        this.#state = { ...this.#state!, fingerprint: await fingerprint(this.dir) };
        options.log(`checked out ${job.sha}`);
        return mirror;
      } catch (error) {
        // Most often a commit the mirror does not have yet: the clone below fetches it.
        reason = `the workspace could not be reset: ${(error as Error).message}`;
      }
    }
    options.debug?.(`cloning afresh: ${reason}`);
    this.#state = undefined;
    await rm(this.dir, { recursive: true, force: true });
    await options.locks.run(mirror, async () => {
      try {
        // Fetched above already when asked to; here only when the mirror lacks the commit.
        await updateMirror(mirror, job, { ...options, fetch: false });
        await git(["clone", "--quiet", "--no-checkout", "--shared", "--template=", mirror, this.dir]);
      } catch (error) {
        // Set it up again next time: the directory may have been removed or damaged.
        options.locks.ready.delete(mirror);
        throw error;
      }
    });
    // Steps that run git see the repository's real remote, not the runner's mirror.
    await git(["remote", "set-url", "origin", job.repository_url], { cwd: this.dir });
    await git([...SAFE, "checkout", "--quiet", "--detach", job.sha], { cwd: this.dir, timeoutMs: 10 * 60_000 });
    this.#state = { mirror, refs: options.locks.refs.get(mirror) ?? "", fingerprint: await fingerprint(this.dir) };
    options.log(`checked out ${job.sha}`);
    return mirror;
  }

  /** Why the workspace must be cloned afresh, or null when it can be reset. */
  async #whyNotReuse(mirror: string, options: CheckoutOptions): Promise<string | null> {
    const state = this.#state;
    if (!state) return "no workspace from this runner process yet";
    if (state.mirror !== mirror) return "the last job was of another repository";
    if (state.refs !== (options.locks.refs.get(mirror) ?? "")) return "the repository's branches or tags changed";
    const now = await fingerprint(this.dir).catch(() => "unreadable");
    if (now !== state.fingerprint) return "the last job changed the repository (config, hooks, refs, objects or other files under .git)";
    return null;
  }

  async #reset(sha: string): Promise<void> {
    const gitDir = join(this.dir, ".git");
    // Index versions 3 and 4 may hold skip-worktree entries, which `checkout --force` leaves
    // alone: without the index, every tracked file is written again.
    if ((await indexVersion(gitDir)) !== 2) await rm(join(gitDir, "index"), { force: true });
    await rm(join(gitDir, "logs"), { recursive: true, force: true });
    await git([...SAFE, "checkout", "--quiet", "--force", "--detach", sha], { cwd: this.dir, timeoutMs: 10 * 60_000 });
    await git([...SAFE, "clean", "--quiet", "-ffdx"], { cwd: this.dir, timeoutMs: 10 * 60_000 });
  }
}

/** The slots' workspace directories: workspaces/slot-1 ... slot-<count>. */
export function slotDirs(workspaces: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => join(workspaces, `slot-${i + 1}`));
}

/** Removes whatever under `workspaces` is not one of `keep` (older per-job workspaces, slots of a larger --runner-slots). */
export async function removeStrayWorkspaces(workspaces: string, keep: readonly string[]): Promise<void> {
  const names = await readdir(workspaces).catch(() => [] as string[]);
  const kept = new Set(keep.map((dir) => dir.slice(workspaces.length + 1)));
  await Promise.all(names.filter((name) => !kept.has(name)).map((name) => rm(join(workspaces, name), { recursive: true, force: true })));
}

/**
 * A hash of what a job could change in the repository, as opposed to its working tree: the names
 * of the entries of .git (but the index, the reflogs and HEAD, which the checkout rewrites), the
 * config, the packed refs, the alternates, every loose ref and every entry under objects/.
 */
export async function fingerprint(dir: string): Promise<string> {
  const gitDir = join(dir, ".git");
  const hash = createHash("sha256");
  const top = (await readdir(gitDir)).filter((name) => !["index", "logs", "HEAD"].includes(name)).sort();
  hash.update(`top:${top.join("/")}\n`);
  for (const file of ["config", "packed-refs", join("objects", "info", "alternates")]) {
    hash.update(`${file}:`);
    hash.update(await readFile(join(gitDir, file)).catch(() => Buffer.from("(none)")));
    hash.update("\n");
  }
  for (const folder of ["refs", "objects"]) {
    const entries = await readdir(join(gitDir, folder), { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name)).sort();
    hash.update(`${folder}:${entries.map((e) => join(e.parentPath, e.name)).sort().join("/")}\n`);
    if (folder === "refs") for (const file of files) hash.update(await readFile(file));
  }
  return hash.digest("hex");
}

/** The version in the index file's header, or null when there is none. */
async function indexVersion(gitDir: string): Promise<number | null> {
  const file = await open(join(gitDir, "index")).catch(() => undefined);
  if (!file) return null;
  try {
    const header = Buffer.alloc(8);
    const { bytesRead } = await file.read(header, 0, 8, 0);
    return bytesRead === 8 && header.toString("latin1", 0, 4) === "DIRC" ? header.readUInt32BE(4) : null;
  } finally {
    await file.close();
  }
}
