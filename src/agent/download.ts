// Downloading a release's artifact into <data-dir>/downloads/:
//
//   <sha256>.part      bytes received so far; an interrupted download resumes from its end
//                      with `Range: bytes=<size>-` (a server that answers 200 instead restarts it)
//   <sha256>.artifact  the complete file, renamed from .part only after its size and sha256
//                      matched what the release declares
//
// A size or checksum mismatch deletes the .part file and is refused with a clear message; the
// caller unpacks nothing and keeps the current release running.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isErrno } from "./files.ts";

export class ArtifactMismatchError extends Error {
  override name = "ArtifactMismatchError";
}

export interface ArtifactResponse {
  /** 200 (the whole artifact), 206 (from the requested offset on) or 416 (offset past the end). */
  status: number;
  body: Readable;
}

export interface ArtifactSource {
  artifact(sha256: string, start: number, signal?: AbortSignal): Promise<ArtifactResponse>;
}

export const sha256OfFile = async (path: string): Promise<string> => {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
};

const sizeOf = async (path: string): Promise<number | undefined> => {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
};

export interface DownloadResult {
  path: string;
  /** Bytes fetched over the network by this call (0 when the artifact was already here). */
  fetched: number;
  resumedFrom: number;
}

/** The verified artifact's path, downloading (or resuming) it first when needed. */
export async function downloadArtifact(source: ArtifactSource, dir: string, expected: { sha256: string; size: number }, signal?: AbortSignal): Promise<DownloadResult> {
  await mkdir(dir, { recursive: true });
  const complete = join(dir, `${expected.sha256}.artifact`);
  const part = join(dir, `${expected.sha256}.part`);
  if ((await sizeOf(complete)) === expected.size && (await sha256OfFile(complete)) === expected.sha256) return { path: complete, fetched: 0, resumedFrom: 0 };
  await rm(complete, { force: true });

  let have = (await sizeOf(part)) ?? 0;
  if (have > expected.size) {
    await truncate(part, 0);
    have = 0;
  }
  const resumedFrom = have;
  let fetched = 0;
  // A download from the first byte is hashed as it streams to disk (no second read of the file);
  // a resumed one is hashed whole afterwards.
  let streamed: string | undefined;
  if (have < expected.size) {
    let response = await source.artifact(expected.sha256, have, signal);
    if (response.status === 416) {
      // The server thinks our offset is past the end: start over.
      response.body.destroy();
      await truncate(part, 0).catch(() => undefined);
      have = 0;
      response = await source.artifact(expected.sha256, 0, signal);
    }
    const append = response.status === 206 && have > 0;
    if (!append) have = 0;
    const before = have;
    const hash = createHash("sha256");
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(response.body, hashing, createWriteStream(part, { flags: append ? "a" : "w" }), ...(signal ? [{ signal }] : []));
    fetched = ((await sizeOf(part)) ?? 0) - before;
    if (!append) streamed = hash.digest("hex");
  }

  const size = (await sizeOf(part)) ?? 0;
  if (size !== expected.size) {
    await rm(part, { force: true });
    throw new ArtifactMismatchError(`artifact size mismatch: expected ${expected.size} bytes, got ${size}`);
  }
  const actual = streamed ?? (await sha256OfFile(part));
  if (actual !== expected.sha256) {
    await rm(part, { force: true });
    throw new ArtifactMismatchError(`artifact checksum mismatch: expected ${expected.sha256}, got ${actual}`);
  }
  await rename(part, complete);
  return { path: complete, fetched, resumedFrom };
}

/** Removes finished downloads (they are unpacked by now) and partial ones no release needs any more. */
export async function cleanDownloads(dir: string, keepSha256: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => !keepSha256.has(name.split(".")[0] ?? ""))
      .map((name) => rm(join(dir, name), { force: true })),
  );
}
