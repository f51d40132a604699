// Content-addressed artifact storage on the filesystem: blobs/sha256/<2 hex>/<64 hex>.
// An upload streams into a temporary file while it is hashed and counted; only when the whole
// body has arrived, been fsynced and (if the client said what to expect) matched its sha256 is
// it renamed into place. A crash at any moment leaves either no blob or a whole one, never a
// partial blob under a real name; stray temporary files are swept at start-up.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SlipwayError, invalidInput } from "../core/errors.ts";

export interface StoredBlob {
  sha256: string;
  size: number;
}

export class BlobStore {
  readonly root: string;
  readonly maxBytes: number;

  constructor(root: string, maxBytes: number) {
    this.root = root;
    this.maxBytes = maxBytes;
  }

  private get tmpDir(): string {
    return join(this.root, "tmp");
  }

  pathOf(sha256: string): string {
    return join(this.root, "sha256", sha256.slice(0, 2), sha256);
  }

  /**
   * Creates the folders and removes temporary files left by uploads a crash interrupted. Each
   * temporary file is named after the process writing it, so a server starting beside another
   * on the same data directory removes only the files of processes that are gone.
   */
  async init(): Promise<void> {
    await mkdir(join(this.root, "sha256"), { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    for (const name of await readdir(this.tmpDir)) {
      const pid = Number(name.split("-")[0]);
      if (!Number.isInteger(pid) || !isAlive(pid) || pid === process.pid) await rm(join(this.tmpDir, name), { force: true, recursive: true });
    }
  }

  async put(body: Readable, expectedSha256?: string): Promise<StoredBlob> {
    const tmp = join(this.tmpDir, `${process.pid}-${Date.now()}-${randomBytes(6).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const limit = this.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limit) {
          callback(new SlipwayError("payload_too_large", `artifact is larger than the limit of ${limit} bytes`));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { flags: "wx" }));
      await fsyncPath(tmp);
      const sha256 = hash.digest("hex");
      if (expectedSha256 !== undefined && expectedSha256 !== sha256) {
        throw invalidInput(`artifact body has sha256 ${sha256}, not the ${expectedSha256} the request declared`, [{ field: "x-slipway-sha256", message: "does not match the body" }]);
      }
      const final = this.pathOf(sha256);
      const prefixDir = join(this.root, "sha256", sha256.slice(0, 2));
      // A new prefix folder must itself be durable, or a power loss could drop the blob in it.
      if ((await mkdir(prefixDir, { recursive: true })) !== undefined) await fsyncPath(join(this.root, "sha256"));
      await rename(tmp, final);
      await fsyncPath(prefixDir);
      return { sha256, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch {
      return undefined;
    }
  }

  /** A stream of the blob's bytes from `start` to `end` inclusive (for HTTP Range requests). */
  read(sha256: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(sha256), range);
  }

  async listTemporary(): Promise<string[]> {
    return readdir(this.tmpDir);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
