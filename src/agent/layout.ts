// Where a service lives on the host (ARCHITECTURE.md, "Host layout"):
//
//   <data-dir>/services/<service>/
//     releases/<version>/          unpacked artifact + .slipway-release.json (written before the
//                                  directory is renamed into place, so its presence means "complete")
//     releases/.unpack-*           an unpack in progress (removed at start-up)
//     current -> releases/<version>
//     shared/                      kept across releases
//       logs/stdout.log, stderr.log (+ .1 .2 .3 rotated)
//       process.json               the supervised process: pid, release, start time
//       state.json                 the agent's bookkeeping for this service (previous release, ...)
//   <data-dir>/downloads/<sha256>.part | .artifact
//   <data-dir>/tasks/<task-id>.json
//   <data-dir>/agent.json
import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HostRelease } from "../contracts/agent.ts";
import { isErrno, readJsonFile } from "./files.ts";

export const RELEASE_MARKER = ".slipway-release.json";

/** Service names are slugs and versions are `[A-Za-z0-9][A-Za-z0-9._+-]*`; anything else never reaches the file system. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export function assertSafeSegment(what: string, value: string): string {
  if (!SAFE_SEGMENT.test(value)) throw new Error(`unsafe ${what} '${value}' for a path on the host`);
  return value;
}

export interface ServiceLayout {
  service: string;
  root: string;
  releases: string;
  current: string;
  shared: string;
  logs: string;
  processFile: string;
  stateFile: string;
  releaseDir(version: string): string;
}

export function serviceLayout(dataDir: string, service: string): ServiceLayout {
  const root = join(dataDir, "services", assertSafeSegment("service name", service));
  const shared = join(root, "shared");
  return {
    service,
    root,
    releases: join(root, "releases"),
    current: join(root, "current"),
    shared,
    logs: join(shared, "logs"),
    processFile: join(shared, "process.json"),
    stateFile: join(shared, "state.json"),
    releaseDir: (version) => join(root, "releases", assertSafeSegment("release version", version)),
  };
}

export const ReleaseMarker = z.object({
  release_id: z.string(),
  version: z.string(),
  artifact_sha256: z.string(),
  unpacked_at: z.number(),
  /** The release as the server described it (with its manifest): enough to run it with the server away. */
  release: HostRelease.optional(),
});
export type ReleaseMarker = z.infer<typeof ReleaseMarker>;

export const readReleaseMarker = (layout: ServiceLayout, version: string): Promise<ReleaseMarker | undefined> =>
  readJsonFile(join(layout.releaseDir(version), RELEASE_MARKER), ReleaseMarker);

/** True when `version` is completely unpacked from the artifact with this sha256. */
export async function isUnpacked(layout: ServiceLayout, version: string, sha256: string): Promise<boolean> {
  return (await readReleaseMarker(layout, version))?.artifact_sha256 === sha256;
}

/** The version `current` points at, or null when there is no `current`. */
export async function readCurrentVersion(layout: ServiceLayout): Promise<string | null> {
  try {
    const target = await readlink(layout.current);
    const match = /^releases\/([^/]+)$/.exec(target);
    return match?.[1] ?? null;
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "EINVAL")) return null;
    throw error;
  }
}

/** Completely unpacked releases, newest unpack first. */
export async function listUnpackedReleases(layout: ServiceLayout): Promise<ReleaseMarker[]> {
  let names: string[];
  try {
    names = await readdir(layout.releases);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
  const markers = await Promise.all(names.filter((n) => SAFE_SEGMENT.test(n)).map((n) => readReleaseMarker(layout, n)));
  return markers.filter((m): m is ReleaseMarker => m !== undefined).sort((a, b) => b.unpacked_at - a.unpacked_at);
}

/** The services that have a directory on this host (desired now or in the past). */
export async function listServicesOnDisk(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(join(dataDir, "services"))).filter((n) => SAFE_SEGMENT.test(n));
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
}
