// Unpacking a verified artifact (.tar.gz) into releases/<version>/: extracted into a temporary
// directory beside it, the completion marker written last, then renamed into place in one step,
// so releases/<version> either does not exist or is complete. Entries that would land outside the
// directory (absolute paths, `..`) make the whole unpack fail instead of being skipped.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { extract } from "tar";
import type { HostRelease } from "../contracts/agent.ts";
import { syncDirectory, writeJsonAtomic } from "./files.ts";
import { RELEASE_MARKER, type ReleaseMarker, type ServiceLayout } from "./layout.ts";

const TEMP_PREFIX = ".unpack-";

export class UnpackError extends Error {
  override name = "UnpackError";
}

export async function unpackRelease(archive: string, layout: ServiceLayout, release: HostRelease, now: number): Promise<void> {
  const target = layout.releaseDir(release.version);
  await mkdir(layout.releases, { recursive: true });
  const temp = join(layout.releases, `${TEMP_PREFIX}${release.version}-${randomBytes(4).toString("hex")}`);
  await mkdir(temp);
  try {
    try {
      // strict: a warning (unsafe path, bad header, truncated archive) is an error.
      await extract({ file: archive, cwd: temp, strict: true, preservePaths: false, preserveOwner: false });
    } catch (error) {
      throw new UnpackError(`artifact could not be unpacked as a .tar.gz: ${(error as Error).message}`, { cause: error });
    }
    const marker: ReleaseMarker = { release_id: release.id, version: release.version, artifact_sha256: release.artifact_sha256, unpacked_at: now, release };
    await writeJsonAtomic(join(temp, RELEASE_MARKER), marker);
    // A directory left by an unpack of another artifact under the same version (or an old layout)
    // is replaced; the callers only unpack when the marker is missing or differs.
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
    await syncDirectory(layout.releases);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Removes unpacks a crash interrupted; run once at start-up, before any new unpack. */
export async function removeInterruptedUnpacks(layout: ServiceLayout): Promise<void> {
  let names: string[];
  try {
    names = await readdir(layout.releases);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(TEMP_PREFIX)).map((n) => rm(join(layout.releases, n), { recursive: true, force: true })));
}
