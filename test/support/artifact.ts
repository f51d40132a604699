// Builds a real release artifact for tests: a .tar.gz of a directory, with a slipway.yaml (and
// any extra files) at its root, exactly as `slipway release create --artifact` would upload it.
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create } from "tar";

export interface BuiltArtifact {
  path: string;
  bytes: Buffer;
  sha256: string;
  size: number;
}

export const FIXTURE_SERVICE_DIR = join(import.meta.dirname, "..", "fixtures", "service");

/** `dir`'s files + slipway.yaml + `extraFiles` (relative path -> text), as a .tar.gz in a temp dir. */
export async function buildArtifact(dir: string, slipwayYaml: string, extraFiles: Record<string, string> = {}): Promise<BuiltArtifact> {
  const work = await mkdtemp(join(tmpdir(), "slipway-artifact-"));
  const staging = join(work, "root");
  await cp(dir, staging, { recursive: true });
  await writeFile(join(staging, "slipway.yaml"), slipwayYaml);
  for (const [path, text] of Object.entries(extraFiles)) {
    await mkdir(dirname(join(staging, path)), { recursive: true });
    await writeFile(join(staging, path), text, { mode: path.endsWith(".sh") ? 0o755 : 0o644 });
  }
  const path = join(work, "artifact.tar.gz");
  // portable + a fixed mtime: the same inputs give the same bytes.
  await create({ gzip: true, file: path, cwd: staging, portable: true, mtime: new Date("2026-01-01T00:00:00Z") }, (await readdir(staging)).sort());
  const bytes = await readFile(path);
  await rm(staging, { recursive: true, force: true });
  return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
}
