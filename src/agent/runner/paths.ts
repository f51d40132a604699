// Globs of slipway.yaml (`artifacts`, `package.files`, `tests.reports`) -> the files they name,
// relative to a base directory. A pattern starting with "!" takes matches away; a pattern that
// matches a directory brings its whole tree. Only regular files and symbolic links are returned
// (a link is kept as a link, never followed), sorted, so that the same tree gives the same list.
// Nothing outside the base is ever returned, whatever the pattern says.
import { glob, lstat, readdir } from "node:fs/promises";
import { basename, join, matchesGlob, relative, resolve, sep } from "node:path";

export interface MatchOptions {
  /** Directory names never searched (and never returned), e.g. node_modules for test reports. */
  skipDirectories?: readonly string[];
}

export async function matchFiles(base: string, patterns: readonly string[], options: MatchOptions = {}): Promise<string[]> {
  const root = resolve(base);
  const include = patterns.filter((p) => !p.startsWith("!")).map(normalizePattern);
  const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => normalizePattern(p.slice(1)));
  const skip = new Set([".git", ...(options.skipDirectories ?? [])]);
  const found = new Set<string>();
  for await (const match of glob(include, { cwd: root, exclude: (path: string) => skip.has(basename(path)) })) {
    const absolute = resolve(root, match);
    if (!isInside(root, absolute)) continue;
    for (const file of await filesAt(absolute, skip)) found.add(relative(root, file).split(sep).join("/"));
  }
  return [...found].filter((file) => !exclude.some((pattern) => matchesGlob(file, pattern))).sort();
}

/** The path itself when it is a file or a link, every file and link under it when it is a directory. */
async function filesAt(path: string, skip: ReadonlySet<string>): Promise<string[]> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isFile() || info.isSymbolicLink()) return [path];
  if (!info.isDirectory()) return [];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(entries.filter((e) => !(e.isDirectory() && skip.has(e.name))).map((e) => filesAt(join(path, e.name), skip)));
  return nested.flat();
}

function normalizePattern(pattern: string): string {
  return pattern.trim().replace(/^(\.\/)+/, "");
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/** `dir` (relative to the workspace) resolved inside it; refuses a path that leaves the workspace. */
export function insideWorkspace(workspace: string, dir: string | null): string {
  const path = resolve(workspace, dir ?? ".");
  if (!isInside(workspace, path)) throw new Error(`${JSON.stringify(dir)} is outside the workspace`);
  return path;
}
