// The tarballs a job uploads: its kept paths (`artifacts`) and the release artifact (`package`).
// Both are deterministic: entries sorted by their path in the archive, one fixed mtime, no owner,
// user or group (tar's portable mode), so the same files give the same bytes and the same sha256.
//
// A release artifact has the layout the host agent unpacks (see src/up/demo.ts): the package's
// files at the archive root, relative to `package.working_directory` when there is one, and
// always the repository root's slipway.yaml at the archive root (it wins over a slipway.yaml in
// the working directory), since the agent reads the service's manifest from there.
import { stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { create, type WriteEntry } from "tar";
import type { RunnerJob } from "../../contracts/runner.ts";
import { sha256OfFile } from "../download.ts";
import { insideWorkspace, matchFiles } from "./paths.ts";

/** Every entry's mtime; a constant so that a rebuild of the same files gives the same sha256. */
const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");
const MANIFEST = "slipway.yaml";

export interface Tarball {
  path: string;
  sha256: string;
  size: number;
  /** The archive's paths, in order. */
  entries: string[];
}

/**
 * Writes a .tar.gz at `output` holding, for each pair of `entries` (path in the archive -> path
 * of the file relative to `cwd`), that file under that path.
 */
export async function writeTarball(output: string, cwd: string, entries: ReadonlyMap<string, string>): Promise<Tarball> {
  const ordered = [...entries.keys()].sort();
  const archivePathOf = new Map(ordered.map((archivePath) => [toPosix(entries.get(archivePath) ?? archivePath), archivePath]));
  const rename = (entry: WriteEntry) => {
    entry.path = archivePathOf.get(entry.path) ?? entry.path;
    // A hard link names an earlier entry by its source path: name it by its archive path.
    if (entry.type === "Link" && entry.linkpath !== undefined) entry.linkpath = archivePathOf.get(entry.linkpath) ?? entry.linkpath;
  };
  const sources = ordered.map((archivePath) => entries.get(archivePath) ?? archivePath);
  await create({ gzip: true, file: output, cwd, portable: true, mtime: FIXED_MTIME, noDirRecurse: true, onWriteEntry: rename }, sources);
  const [sha256, info] = await Promise.all([sha256OfFile(output), stat(output)]);
  return { path: output, sha256, size: info.size, entries: ordered };
}

/** The job's kept paths as a tarball, or null when its globs match no file. */
export async function keptTarball(workspace: string, globs: readonly string[], output: string): Promise<Tarball | null> {
  if (globs.length === 0) return null;
  const files = await matchFiles(workspace, globs);
  if (files.length === 0) return null;
  return writeTarball(output, workspace, new Map(files.map((file) => [file, file])));
}

/** The release artifact of a job with a `package` section (see the header). */
export async function packageTarball(workspace: string, section: NonNullable<RunnerJob["package"]>, output: string): Promise<Tarball> {
  const base = insideWorkspace(workspace, section.working_directory);
  if (!(await stat(join(workspace, MANIFEST)).catch(() => undefined))?.isFile()) throw new Error(`the repository has no ${MANIFEST} at its root, which every release needs`);
  // A glob that matches nothing is a mistake in slipway.yaml (a renamed build folder, a typo),
  // not a smaller release: the job fails naming it.
  const unmatched = [];
  for (const glob of section.files.filter((pattern) => !pattern.startsWith("!"))) if ((await matchFiles(base, [glob])).length === 0) unmatched.push(glob);
  if (unmatched.length > 0) {
    const where = section.working_directory ? `in ${section.working_directory}` : "in the workspace";
    throw new Error(`package.files: ${unmatched.map((glob) => JSON.stringify(glob)).join(", ")} ${unmatched.length === 1 ? "matches" : "match"} no file ${where}`);
  }
  const entries = new Map<string, string>();
  for (const file of await matchFiles(base, section.files)) entries.set(file, toPosix(relative(workspace, join(base, file))));
  entries.set(MANIFEST, MANIFEST);
  return writeTarball(output, workspace, entries);
}

const toPosix = (path: string) => path.split(sep).join("/");
