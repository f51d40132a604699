// Switching a service's `current` symlink, and the little state the agent keeps per service in
// shared/state.json across restarts: which release `current` points at (with its manifest, so a
// restarted agent can supervise it before the server answers), the previous one (never pruned:
// rolling back to it is a symlink flip), and whether after_switch has run for the current one.
import { randomBytes } from "node:crypto";
import { rename, rm, symlink } from "node:fs/promises";
import { z } from "zod";
import { HostRelease } from "../contracts/agent.ts";
import { readJsonFile, syncDirectory, writeJsonAtomic } from "./files.ts";
import { listUnpackedReleases, type ReleaseMarker, type ServiceLayout } from "./layout.ts";
import { dirname } from "node:path";

export const ServiceState = z.object({
  service_id: z.string(),
  /** The release `current` points at, as the server described it. */
  release: HostRelease.nullable(),
  previous_version: z.string().nullable(),
  after_switch_done: z.boolean(),
});
export type ServiceState = z.infer<typeof ServiceState>;

export const readServiceState = (layout: ServiceLayout): Promise<ServiceState | undefined> => readJsonFile(layout.stateFile, ServiceState);
export const writeServiceState = (layout: ServiceLayout, state: ServiceState): Promise<void> => writeJsonAtomic(layout.stateFile, state);

/** Points `current` at releases/<version> in one step: a new symlink renamed over the old one. */
export async function switchCurrent(layout: ServiceLayout, version: string): Promise<void> {
  const temp = `${layout.current}.tmp-${randomBytes(4).toString("hex")}`;
  await symlink(`releases/${version}`, temp);
  try {
    await rename(temp, layout.current);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(layout.current));
}

export async function removeCurrent(layout: ServiceLayout): Promise<void> {
  await rm(layout.current, { force: true });
  await syncDirectory(dirname(layout.current));
}

/**
 * Removes unpacked releases beyond the newest `keep`, never one in `protect` (current, previous,
 * the desired one, those a migration task needs). Returns the versions removed.
 */
export async function pruneReleases(layout: ServiceLayout, keep: number, protect: ReadonlySet<string>): Promise<string[]> {
  const releases = await listUnpackedReleases(layout);
  const kept = new Set(releases.filter((r) => protect.has(r.version)).map((r) => r.version));
  for (const release of releases) {
    if (kept.size >= keep) break;
    kept.add(release.version);
  }
  const doomed: ReleaseMarker[] = releases.filter((r) => !kept.has(r.version));
  for (const release of doomed) await rm(layout.releaseDir(release.version), { recursive: true, force: true });
  return doomed.map((r) => r.version);
}
