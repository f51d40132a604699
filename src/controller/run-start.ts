// Starting a pipeline run: read slipway.yaml at the commit from the service's mirror, expand the
// jobs into shards (test files split by their last timings), and record the run. A push whose
// slipway.yaml is broken still gets a run — failed, with the file's error as its reason — so
// the author sees why nothing was built; a person asking for a run gets the error directly.
import { join } from "node:path";
import { matchesGlob } from "node:path/posix";
import type { Kysely } from "kysely";
import { SlipwayError, invalidInput } from "../core/errors.ts";
import { parseSlipwayFile } from "../core/manifest/parse.ts";
import { topologicalOrder } from "../core/pipeline/dag.ts";
import type { Pipeline } from "../core/pipeline/schema.ts";
import { splitByTimings } from "../core/testing/split.ts";
import type { Trigger } from "../contracts/pipelines.ts";
import { git } from "../git/exec.ts";
import { branchHeads, commitInfo, describe, ensureMirror, fetchMirror, listFilesAt, readFileAt, type CommitInfo } from "../git/mirror.ts";
import type { ActorContext } from "../store/audit.ts";
import type { Changes } from "../store/changes.ts";
import { createRun, type NewJob } from "../store/pipeline-runs.ts";
import type { Database, PipelineRunsTable } from "../store/schema.ts";
import { fileTimings } from "../store/test-results.ts";

export interface RunStartDeps {
  db: Kysely<Database>;
  changes: Changes;
  /** Where the services' bare mirrors live. */
  gitDir: string;
}

export interface RunRequest {
  service: { id: string; repository_url: string };
  trigger: Trigger;
  branch?: string | undefined;
  sha?: string | undefined;
}

export const mirrorDirOf = (gitDir: string, serviceId: string): string => join(gitDir, `${serviceId}.git`);

/** The branch a run without one builds: main, master, or the only branch there is. */
export function defaultBranch(heads: Map<string, string>): string | undefined {
  for (const name of ["main", "master", "trunk"]) if (heads.has(name)) return name;
  return heads.size === 1 ? [...heads.keys()][0] : undefined;
}

export interface RunContext {
  /** Branch heads just fetched, to save a second fetch. */
  heads: Map<string, string>;
  /** Written in the run's own transaction (the trigger's bookkeeping: the head it has now seen). */
  alsoRecord?: (trx: Kysely<Database>) => Promise<void>;
}

export async function startRun(deps: RunStartDeps, actor: ActorContext, request: RunRequest, known?: RunContext): Promise<PipelineRunsTable> {
  const dir = mirrorDirOf(deps.gitDir, request.service.id);
  let heads = known?.heads;
  // A commit the mirror already has (a run by hand of a given sha, a re-run) needs no fetch: git
  // commands are most of what starting a run costs the server.
  let read = !heads && request.sha !== undefined ? await readCommit(dir, request.sha) : undefined;
  if (!heads && !read) {
    await ensureMirror(dir, request.service.repository_url);
    heads = await fetchMirror(dir);
  }
  const branch = request.branch ?? defaultBranch((heads ??= await branchHeads(dir)));
  if (branch === undefined) throw invalidInput("say which branch to build: the repository has no main or master branch", [{ field: "branch", message: `one of ${[...(heads?.keys() ?? [])].slice(0, 10).join(", ") || "(no branches)"}` }]);
  const sha = request.sha ?? heads?.get(branch);
  if (sha === undefined) throw invalidInput(`the repository has no branch '${branch}'`, [{ field: "branch", message: "no such branch" }]);

  read ??= await readCommit(dir, sha);
  // Without a quick read (no slipway.yaml, a commit that is not there), each piece on its own, for its precise error.
  const commit =
    read?.commit ??
    (await commitInfo(dir, sha).catch((error: unknown) => {
      throw invalidInput(`commit ${sha} is not in the repository`, [{ field: "sha", message: error instanceof Error ? error.message : String(error) }]);
    }));
  const author = `${commit.author_name} <${commit.author_email}>`;
  const gitDescribe = read ? read.describe : await describe(dir, commit.sha).catch(() => null);
  const base = { serviceId: request.service.id, trigger: request.trigger, branch, sha: commit.sha, message: commit.message, author, gitDescribe };

  let pipeline: Pipeline;
  let jobs: NewJob[];
  try {
    pipeline = read ? pipelineOf(read.manifest, commit.sha) : await pipelineAt(dir, commit.sha);
    jobs = await expandJobs(deps.db, dir, commit.sha, request.service.id, pipeline);
  } catch (error) {
    if (!(error instanceof SlipwayError) || request.trigger === "manual") throw error;
    // A pushed commit with a broken file: recorded as a failed run that says what is wrong.
    const { run } = await createRun(deps.db, actor, { ...base, pipeline: { jobs: {} }, jobs: [], supersede: false, failed: error.message, ...(known?.alsoRecord ? { alsoRecord: known.alsoRecord } : {}) });
    deps.changes.tenantChanged({ tenantId: actor.tenantId, kind: "run", id: run.id });
    return { ...run, state: "failed", reason: error.message };
  }
  const { run } = await createRun(deps.db, actor, { ...base, pipeline, jobs, supersede: request.trigger === "push" && pipeline.on.supersede, ...(known?.alsoRecord ? { alsoRecord: known.alsoRecord } : {}) });
  deps.changes.tenantChanged({ tenantId: actor.tenantId, kind: "run", id: run.id });
  return run;
}

/** The pipeline of slipway.yaml at a commit; an error names the file's line when it is wrong. */
export async function pipelineAt(dir: string, sha: string): Promise<Pipeline> {
  const text = await readFileAt(dir, sha, "slipway.yaml");
  if (text === null) throw invalidInput(`there is no slipway.yaml at the root of ${sha.slice(0, 12)}`, [{ field: "slipway.yaml", message: "missing" }]);
  return pipelineOf(text, sha);
}

function pipelineOf(text: string, sha: string): Pipeline {
  const { pipeline } = parseSlipwayFile(text, `slipway.yaml@${sha.slice(0, 12)}`);
  if (!pipeline) throw invalidInput(`slipway.yaml at ${sha.slice(0, 12)} has no jobs`, [{ field: "slipway.yaml jobs", message: "add a jobs section to build this service" }]);
  return pipeline;
}

/** Every job as one row per shard, in the order they can run; test files are split by timings. */
async function expandJobs(db: Kysely<Database>, dir: string, sha: string, serviceId: string, pipeline: Pipeline): Promise<NewJob[]> {
  const needsFiles = Object.values(pipeline.jobs).some((job) => job.tests !== undefined);
  const files = needsFiles ? await listFilesAt(dir, sha) : [];
  const timings = needsFiles ? await fileTimings(db, serviceId) : new Map<string, number>();
  const rows: NewJob[] = [];
  for (const key of topologicalOrder(pipeline.jobs)) {
    const job = pipeline.jobs[key]!;
    const common = { key, labels: job.runs_on ?? null, maxAttempts: job.retry.max + 1, retryWhen: job.retry.when };
    if (!job.tests) {
      rows.push({ ...common, shardIndex: 0, shardTotal: 1, testFiles: [] });
      continue;
    }
    const testFiles = files.filter((file) => job.tests!.files.some((glob) => matchesGlob(file, glob)));
    if (testFiles.length === 0) throw invalidInput(`job ${key}: no file in the repository matches ${job.tests.files.join(", ")}`, [{ field: `jobs.${key}.tests.files`, message: "matches no file" }]);
    // Never more shards than files: an empty shard would run the command with no files, which
    // many test runners read as "run everything".
    const shards = Math.min(job.parallelism, testFiles.length);
    const split = splitByTimings(testFiles, timings, shards);
    split.shards.forEach((shard, index) => rows.push({ ...common, shardIndex: index, shardTotal: shards, testFiles: shard.files }));
  }
  return rows;
}

const FIELD = "\x1f";
const END = "\x1e\n";
// What commitInfo and describe (src/git/mirror.ts) give, in one format: `git describe --tags
// --always`, deploy/* tags left out, is %(describe) with %h when no tag is reachable.
const FORMAT = ["%H", "%an", "%ae", "%ct", "%s", "%h", "%(describe:tags=true,exclude=deploy/*)"].join("%x1f") + "%x1e";

/**
 * The commit's details, its `git describe` and its slipway.yaml, read by a single git command
 * (`git show` of the commit and of the file); undefined when that fails (no such commit, no
 * slipway.yaml, an unusual sha), so that the caller asks each question on its own.
 */
async function readCommit(dir: string, sha: string): Promise<{ commit: CommitInfo; describe: string; manifest: string } | undefined> {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return undefined;
  const output = await git(["show", "--no-patch", `--format=${FORMAT}`, `${sha}^{commit}`, `${sha}:slipway.yaml`], { cwd: dir }).catch(() => undefined);
  if (!output) return undefined;
  const end = output.stdout.indexOf(END);
  if (end === -1) return undefined;
  const [full = "", author_name = "", author_email = "", seconds = "0", message = "", short = "", described = ""] = output.stdout.subarray(0, end).toString("utf8").split(FIELD);
  const manifest = output.stdout.subarray(end + END.length).toString("utf8");
  // A git older than 2.35 leaves the %(describe:...) placeholder as it is.
  const description = described.startsWith("%(") ? await describe(dir, full).catch(() => short) : described || short;
  return { commit: { sha: full, author_name, author_email, message, committed_at: Number(seconds) * 1000 }, describe: description, manifest };
}
