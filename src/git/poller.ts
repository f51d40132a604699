// Polling: what changed in a repository since the last look. `diffHeads` is pure — it compares
// two snapshots of branch heads — so the caller decides where the previous snapshot lives (the
// database, so that a restart does not re-announce every branch) and how often to poll.
import { ensureMirror, fetchMirror } from "./mirror.ts";

export type BranchHeads = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface BranchChange {
  branch: string;
  /** The previous head; null for a branch that did not exist before. */
  before: string | null;
  after: string;
}

function entriesOf(heads: BranchHeads): [string, string][] {
  if (heads instanceof Map) return [...(heads as ReadonlyMap<string, string>)];
  return Object.entries(heads as Readonly<Record<string, string>>);
}

/**
 * The branches that are new or whose head moved between `previous` and `current`, sorted by
 * name. Deleted branches are not changes: nothing is built for them.
 */
export function diffHeads(previous: BranchHeads, current: BranchHeads): BranchChange[] {
  const before = new Map(entriesOf(previous));
  return entriesOf(current)
    .filter(([branch, sha]) => before.get(branch) !== sha)
    .map(([branch, sha]) => ({ branch, before: before.get(branch) ?? null, after: sha }))
    .sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
}

export interface PollResult {
  /** Every branch head after the fetch: the `previous` of the next poll. */
  heads: Map<string, string>;
  changes: BranchChange[];
}

/**
 * One poll of `url` through the mirror in `mirrorDir`: fetch, then compare with `previous`.
 * `previous` null means "never polled": the heads are only recorded, so registering a service
 * does not start a run for every branch it already has.
 */
export async function pollRepository(mirrorDir: string, url: string, previous: BranchHeads | null, options: { timeoutMs?: number } = {}): Promise<PollResult> {
  await ensureMirror(mirrorDir, url);
  const heads = await fetchMirror(mirrorDir, options);
  return { heads, changes: previous === null ? [] : diffHeads(previous, heads) };
}
