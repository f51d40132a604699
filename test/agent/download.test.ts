// Downloading an artifact from a real HTTP server: resumed with Range after an interruption,
// verified by size and sha256, and refused (nothing kept) when the bytes are not the release's.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentClient } from "../../src/agent/client.ts";
import { downloadArtifact } from "../../src/agent/download.ts";
import { freePort, tempDir } from "./helpers.ts";

const blob = randomBytes(3 * 1024 * 1024 + 17);
const sha = createHash("sha256").update(blob).digest("hex");
const tampered = Buffer.from(blob);
tampered[1000] = tampered[1000]! ^ 0xff;
const tamperedSha = "b".repeat(64); // served with `tampered` bytes under this name
const ranges: (string | undefined)[] = [];
let cutAfter: number | undefined;
let server: Server;
let client: AgentClient;
let dir: { path: string; remove: () => Promise<void> };

before(async () => {
  dir = await tempDir();
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const body = req.url?.endsWith(tamperedSha) ? tampered : blob;
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1] ?? 0);
    res.writeHead(start > 0 ? 206 : 200, { "content-length": body.length - start, ...(start > 0 ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (cutAfter !== undefined) {
      // Send part of the body, then drop the connection, as a network failure would.
      res.write(body.subarray(start, start + cutAfter), () => res.destroy());
      cutAfter = undefined;
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new AgentClient({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: "t" });
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await dir.remove();
});

describe("artifact download", () => {
  it("resumes an interrupted download with a Range request from where it stopped", async () => {
    const downloads = join(dir.path, "resume");
    cutAfter = 1024 * 1024;
    await assert.rejects(downloadArtifact(client, downloads, { sha256: sha, size: blob.length }));
    const partial = (await stat(join(downloads, `${sha}.part`))).size;
    assert.ok(partial > 0 && partial < blob.length, `kept ${partial} bytes`);
    ranges.length = 0;
    const result = await downloadArtifact(client, downloads, { sha256: sha, size: blob.length });
    assert.deepEqual(ranges, [`bytes=${partial}-`]);
    assert.equal(result.resumedFrom, partial);
    assert.equal(result.fetched, blob.length - partial);
    assert.ok((await readFile(result.path)).equals(blob));
    assert.deepEqual(await readdir(downloads), [`${sha}.artifact`]);
  });

  it("does not fetch again an artifact that is already complete", async () => {
    const downloads = join(dir.path, "resume");
    ranges.length = 0;
    const result = await downloadArtifact(client, downloads, { sha256: sha, size: blob.length });
    assert.equal(result.fetched, 0);
    assert.deepEqual(ranges, []);
  });

  it("refuses bytes whose sha256 is not the release's and keeps nothing of them", async () => {
    const downloads = join(dir.path, "tampered");
    await assert.rejects(downloadArtifact(client, downloads, { sha256: tamperedSha, size: blob.length }), (error: Error) => {
      assert.equal(error.message, `artifact checksum mismatch: expected ${tamperedSha}, got ${createHash("sha256").update(tampered).digest("hex")}`);
      return true;
    });
    assert.deepEqual(await readdir(downloads), []);
  });

  it("refuses an artifact of another size than the release declares", async () => {
    const downloads = join(dir.path, "size");
    await assert.rejects(downloadArtifact(client, downloads, { sha256: sha, size: blob.length - 1 }), /artifact size mismatch: expected \d+ bytes, got \d+/);
    assert.deepEqual(await readdir(downloads), []);
  });

  it("reports an unreachable server as a transient error", async () => {
    const offline = new AgentClient({ server: `http://127.0.0.1:${await freePort()}`, token: "t" });
    await assert.rejects(downloadArtifact(offline, join(dir.path, "offline"), { sha256: sha, size: blob.length }), (error: any) => error.transient === true && /ECONNREFUSED/.test(error.message));
  });
});
