// Reading one small file (slipway.yaml) out of a .tar.gz artifact without unpacking it.
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Parser, type ReadEntry } from "tar";

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const MAX_FILE_BYTES = 1024 * 1024;

/** True when the file starts like a gzip stream (a .tar.gz artifact). */
export async function looksGzipped(path: string): Promise<boolean> {
  const stream = createReadStream(path, { start: 0, end: 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).equals(GZIP_MAGIC);
}

/**
 * The text of `name` at the root of the tarball (`name` or `./name`), or undefined when the
 * artifact is not a gzipped tarball or has no such file.
 */
export async function readFileFromTarball(path: string, name: string): Promise<string | undefined> {
  if (!(await looksGzipped(path))) return undefined;
  let found: string | undefined;
  const parser = new Parser({
    filter: (entryPath) => entryPath === name || entryPath === `./${name}`,
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      let size = 0;
      entry.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_FILE_BYTES) chunks.push(chunk);
      });
      entry.on("end", () => {
        found ??= Buffer.concat(chunks).toString("utf8");
      });
    },
  });
  try {
    await pipeline(createReadStream(path), parser);
  } catch {
    return undefined;
  }
  return found;
}
