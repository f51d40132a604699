// Making a release available on disk, unpacked under releases/<version>, without switching to
// it: check first (a completely unpacked release is never fetched again: that is what makes a
// rollback a symlink flip), else download, verify and unpack. Concurrent requests for the same
// release (a deployment and a migration task) share one download.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { HostRelease } from "../contracts/agent.ts";
import { downloadArtifact, type ArtifactSource, type DownloadResult } from "./download.ts";
import { isUnpacked, type ServiceLayout } from "./layout.ts";
import type { Logger } from "./logger.ts";
import { unpackRelease } from "./unpack.ts";

export interface PrepareResult {
  /** False when the release was already unpacked: nothing was fetched. */
  downloaded: boolean;
}

export class ReleaseCache {
  readonly #inflight = new Map<string, Promise<PrepareResult>>();
  readonly #downloads = new Map<string, Promise<DownloadResult>>();
  /** Prepares in progress per artifact: the downloaded file is removed when the last one ends. */
  readonly #users = new Map<string, number>();
  readonly #source: ArtifactSource;
  readonly #downloadsDir: string;
  readonly #now: () => number;
  readonly #logger: Logger;

  constructor(deps: { source: ArtifactSource; downloadsDir: string; now: () => number; logger: Logger }) {
    this.#source = deps.source;
    this.#downloadsDir = deps.downloadsDir;
    this.#now = deps.now;
    this.#logger = deps.logger;
  }

  ensureUnpacked(layout: ServiceLayout, release: HostRelease, signal?: AbortSignal): Promise<PrepareResult> {
    const key = `${layout.root}\0${release.version}`;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#prepare(layout, release, signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #prepare(layout: ServiceLayout, release: HostRelease, signal?: AbortSignal): Promise<PrepareResult> {
    if (await isUnpacked(layout, release.version, release.artifact_sha256)) return { downloaded: false };
    const log = this.#logger.child({ service: layout.service, release: release.version });
    const started = this.#now();
    const sha = release.artifact_sha256;
    this.#users.set(sha, (this.#users.get(sha) ?? 0) + 1);
    try {
      // Two services may ship the same artifact: one download (one .part file) for both.
      let pending = this.#downloads.get(sha);
      if (!pending) {
        pending = downloadArtifact(this.#source, this.#downloadsDir, { sha256: sha, size: release.artifact_size }, signal).finally(() => this.#downloads.delete(sha));
        this.#downloads.set(sha, pending);
      }
      const download = await pending;
      log.info({ bytes: download.fetched, resumed_from: download.resumedFrom, ms: this.#now() - started }, "artifact downloaded and verified");
      await unpackRelease(download.path, layout, release, this.#now());
      log.info("release unpacked");
    } finally {
      const users = (this.#users.get(sha) ?? 1) - 1;
      if (users > 0) this.#users.set(sha, users);
      else {
        this.#users.delete(sha);
        // Unpacked, or refused: the verified file is not needed any more (a .part stays to resume).
        await rm(join(this.#downloadsDir, `${sha}.artifact`), { force: true });
      }
    }
    return { downloaded: true };
  }
}
