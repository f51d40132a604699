// Where a runner keeps its work, under <data-dir>/runner/:
//
//   git/<hash of the repository URL>.git   a bare mirror per repository: cloned once, fetched
//                                          when a job needs a commit it does not have yet
//   workspaces/slot-<n>/                    each slot's checkout, reset or cloned afresh for every
//                                          job (see slot.ts), left as the last job left it
//   downloads/<job id>/                     the job's inputs while they are unpacked
//   out/<job id>/                           the tarballs the job uploads, while it uploads them
//
// A workspace is a `git clone --no-checkout --shared` of the mirror (it borrows the mirror's
// objects, so it costs no copy). Work on one mirror (creating, fetching, cloning from it) is
// serialized within the runner; two runners never share a data dir.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { extract } from "tar";
import type { RunnerJob } from "../../contracts/runner.ts";
import { git, gitText } from "../../git/exec.ts";
import { commitExists, describe, ensureMirror, fetchMirror } from "../../git/mirror.ts";
import { redactCredentials } from "../../git/repository-url.ts";
import { downloadArtifact } from "../download.ts";
import type { JobServer } from "./client.ts";

export interface RunnerLayout {
  root: string;
  git: string;
  workspaces: string;
  downloads: string;
  out: string;
}

export function runnerLayout(dataDir: string): RunnerLayout {
  const root = join(dataDir, "runner");
  return { root, git: join(root, "git"), workspaces: join(root, "workspaces"), downloads: join(root, "downloads"), out: join(root, "out") };
}

export const mirrorDirFor = (layout: RunnerLayout, url: string): string => join(layout.git, `${createHash("sha256").update(url).digest("hex").slice(0, 24)}.git`);

export const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, "_");

/** Serializes the work on each mirror (one queue per directory), and remembers the mirrors set up. */
export class MirrorLocks {
  readonly #tails = new Map<string, Promise<void>>();
  /** Mirrors known to exist with their remote set (the directory's name is the URL's hash). */
  readonly ready = new Set<string>();
  /** Per mirror, a hash of its branches and tags after its last fetch: a workspace cloned before a change is stale (see slot.ts). */
  readonly refs = new Map<string, string>();

  async run<T>(dir: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(dir) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.#tails.set(dir, tail);
    await before;
    try {
      return await task();
    } finally {
      release();
      if (this.#tails.get(dir) === tail) this.#tails.delete(dir);
    }
  }
}

export interface CheckoutOptions {
  layout: RunnerLayout;
  locks: MirrorLocks;
  /** Fetch even when the mirror already has the commit (for an up-to-date `git describe`). */
  fetch: boolean;
  /** A line of the job's log. */
  log: (text: string) => void;
  /** A line of the runner's own debug log. */
  debug?: (text: string) => void;
}

/** Creates the mirror if needed and fetches into it unless it has the commit (and no fetch is asked for). Call it under the mirror's lock. */
export async function updateMirror(mirror: string, job: Pick<RunnerJob, "repository_url" | "sha">, options: CheckoutOptions): Promise<void> {
  const url = job.repository_url;
  if (!options.locks.ready.has(mirror)) {
    await ensureMirror(mirror, url);
    options.locks.ready.add(mirror);
  }
  if (!options.fetch && (await commitExists(mirror, job.sha))) return;
  const started = Date.now();
  options.log(`fetching ${redactCredentials(url)}`);
  await fetchMirror(mirror);
  // A commit no branch or tag holds any more (a force push since the run started) can often
  // still be fetched by its sha.
  if (!(await commitExists(mirror, job.sha))) await git(["fetch", "--quiet", "origin", job.sha], { cwd: mirror, timeoutMs: 10 * 60_000 }).catch(() => undefined);
  options.locks.refs.set(mirror, createHash("sha256").update(await gitText(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags"], { cwd: mirror })).digest("hex"));
  if (!(await commitExists(mirror, job.sha))) throw new Error(`commit ${job.sha} is not in ${redactCredentials(url)}`);
  options.log(`fetched in ${Date.now() - started} ms`);
}

/** `git describe --tags --always` of the job's commit (deploy/* tags left out), or null. */
export function describeCommit(mirror: string, sha: string): Promise<string | null> {
  return describe(mirror, sha).catch(() => null);
}

/** Downloads each input (the kept paths of the jobs this one needs) and unpacks it into the workspace. */
export async function unpackInputs(server: JobServer, job: Pick<RunnerJob, "id" | "inputs">, workspace: string, layout: RunnerLayout, log: (text: string) => void, signal?: AbortSignal): Promise<void> {
  if (job.inputs.length === 0) return;
  const dir = join(layout.downloads, safeName(job.id));
  try {
    for (const input of job.inputs) {
      const size = await server.artifactSize(input.sha256, signal);
      const { path } = await downloadArtifact(server, dir, { sha256: input.sha256, size }, signal);
      // strict: an unsafe path or a damaged archive fails the job instead of being skipped.
      await extract({ file: path, cwd: workspace, strict: true, preservePaths: false, preserveOwner: false });
      log(`unpacked the kept paths of ${input.job} (${size} bytes, sha256 ${input.sha256.slice(0, 12)})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
