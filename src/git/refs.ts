// Git refs that record deployments in the service's own repository, for teams that follow a
// "live / last_live" branch strategy: after a successful deployment Slipway can
//
//   - move `last_live` to where `live` was, then `live` to the deployed commit, so that
//     `git diff last_live live` is "what the last deployment changed" and `live` is what runs;
//   - tag the deployed commit, e.g. `deploy/production/12`.
//
// Tags are lightweight (a ref, not a tag object). Pushing the same lightweight tag at the same
// commit again is a no-op, so a retried effect (the server killed between the push and recording
// it) converges instead of failing; an annotated tag would be a new object with a new date each
// time. Who deployed, and when, is in Slipway's audit log. A tag that already exists at another
// commit is never moved: that is a conflict.
//
// Branch moves are pushed with --force-with-lease naming the value each branch had when Slipway
// looked, and all refs in one --atomic push: if someone moves `live` by hand meanwhile, nothing
// is changed and the push fails with a conflict instead of clobbering their change.
import { conflict, invalidInput, notFound } from "../core/errors.ts";
import { git, GitError } from "./exec.ts";
import { commitExists, ensureMirror, exclusively, fetchMirror } from "./mirror.ts";

export interface RefUpdate {
  /** Full ref name: `refs/heads/live`, `refs/tags/deploy/production/12`. */
  ref: string;
  after: string;
  /**
   * For branches, the value the ref must still have on the remote (null: must not exist).
   * Tags carry no lease: they are created, or found already at `after`, never moved.
   */
  expected?: string | null;
}

export interface DeployRefsRequest {
  sha: string;
  tag?: string | undefined;
  moveBranches?: { live?: string | undefined; lastLive?: string | undefined } | undefined;
}

/**
 * The ref updates that record a deployment of `sha`, given the remote's branch heads. Pure.
 * Deploying the commit `live` already points at changes no branch, so that repeating a
 * deployment does not make `last_live` equal to `live`.
 */
export function planDeployRefs(heads: ReadonlyMap<string, string>, request: DeployRefsRequest): RefUpdate[] {
  const { live, lastLive } = request.moveBranches ?? {};
  if (lastLive !== undefined && live === undefined) throw invalidInput("moving a last_live branch needs a live branch", [{ field: "lastLive", message: "needs live" }]);
  if (live !== undefined && live === lastLive) throw invalidInput(`live and last_live must be different branches, both are '${live}'`, [{ field: "lastLive", message: "same as live" }]);
  const updates: RefUpdate[] = [];
  if (live !== undefined) {
    const wasLive = heads.get(live) ?? null;
    if (lastLive !== undefined && wasLive !== null && wasLive !== request.sha) {
      updates.push({ ref: `refs/heads/${lastLive}`, expected: heads.get(lastLive) ?? null, after: wasLive });
    }
    updates.push({ ref: `refs/heads/${live}`, expected: wasLive, after: request.sha });
  }
  if (request.tag !== undefined) updates.push({ ref: `refs/tags/${request.tag}`, after: request.sha });
  return updates;
}

export interface PushedRef extends RefUpdate {
  /** `created`, `updated`, or `unchanged` when the remote already had it. */
  outcome: "created" | "updated" | "unchanged";
}

/**
 * Pushes `updates` from the mirror in `mirrorDir` to its remote, all or nothing where the remote
 * supports atomic pushes (git's own server, GitHub, GitLab and Gitea do). A lease that no longer
 * holds, or a tag found at another commit, rejects the push with a `conflict` error.
 */
export async function pushRefUpdates(mirrorDir: string, updates: readonly RefUpdate[]): Promise<PushedRef[]> {
  if (updates.length === 0) return [];
  for (const update of updates) await assertRefName(update.ref);
  const leases = updates.filter((u) => u.expected !== undefined).map((u) => `--force-with-lease=${u.ref}:${u.expected ?? ""}`);
  const refspecs = updates.map((u) => `${u.after}:${u.ref}`);
  const push = (atomic: boolean) => git(["push", "--porcelain", ...(atomic ? ["--atomic"] : []), ...leases, "origin", ...refspecs], { cwd: mirrorDir, okCodes: [1] });
  const result = await exclusively(mirrorDir, async () => {
    try {
      return await push(true);
    } catch (error) {
      if (!(error instanceof GitError) || !/does not support --atomic/i.test(error.stderr)) throw error;
      return push(false);
    }
  });
  const lines = parsePorcelain(result.stdout.toString("utf8"));
  const rejected = lines.filter((line) => line.flag === "!");
  if (rejected.length > 0) {
    const reasons = rejected.map((line) => `${line.ref}: ${line.summary}`).join("; ");
    throw conflict(`the repository refused the deployment refs (${reasons}); a branch or tag changed since Slipway read it`);
  }
  if (result.code !== 0) throw new GitError("git push", { exitCode: result.code, stderr: result.stderr });
  return updates.map((update) => {
    const flag = lines.find((line) => line.ref === update.ref)?.flag;
    const outcome = flag === "=" ? "unchanged" : flag === "*" ? "created" : "updated";
    return { ...update, outcome };
  });
}

export interface PushDeployRefsInput extends DeployRefsRequest {
  /** The service's repository (pushed to, so its credentials need write access). */
  url: string;
  mirrorDir: string;
}

/** Fetches the mirror, plans the refs for a deployment of `sha` and pushes them. */
export async function pushDeployRefs(input: PushDeployRefsInput): Promise<PushedRef[]> {
  await ensureMirror(input.mirrorDir, input.url);
  const heads = await fetchMirror(input.mirrorDir);
  if (!(await commitExists(input.mirrorDir, input.sha))) throw notFound("commit", input.sha);
  return pushRefUpdates(input.mirrorDir, planDeployRefs(heads, input));
}

interface PorcelainLine {
  flag: string;
  ref: string;
  summary: string;
}

/** `git push --porcelain` lines: `<flag>\t<from>:<to>\t<summary>`. */
function parsePorcelain(text: string): PorcelainLine[] {
  const lines: PorcelainLine[] = [];
  for (const line of text.split("\n")) {
    const [head, spec, summary = ""] = line.split("\t");
    if (head === undefined || spec === undefined || head.length !== 1) continue;
    lines.push({ flag: head, ref: spec.slice(spec.indexOf(":") + 1), summary });
  }
  return lines;
}

async function assertRefName(ref: string): Promise<void> {
  const { code } = await git(["check-ref-format", ref], { okCodes: [1] });
  if (code !== 0) throw invalidInput(`'${ref}' is not a valid git ref name`, [{ field: "ref", message: "invalid git ref name" }]);
}
