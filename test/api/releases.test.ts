// Artifacts and releases: streamed, content-addressed, verified, size-limited; releases immutable.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
const LIMIT = 256 * 1024;
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

before(async () => {
  let tick = Date.parse("2026-11-23T10:00:00Z");
  t = await startTestServer({ maxArtifactBytes: LIMIT, clock: () => (tick += 1000) });
  await t.api("POST", "/api/v1/services", { body: { name: "api", repository_url: "https://git.example.com/api.git" } });
});
after(() => t.stop());

describe("artifacts", () => {
  it("stores an upload under its sha256 and serves it back, whole and by range", async () => {
    const bytes = randomBytes(100_000);
    const up = await t.api("PUT", "/api/v1/artifacts", { body: bytes });
    assert.equal(up.status, 201);
    assert.deepEqual([up.body.sha256, up.body.size], [sha(bytes), bytes.length]);
    const whole = await fetch(`${t.url}/api/v1/artifacts/${sha(bytes)}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    assert.equal(sha(Buffer.from(await whole.arrayBuffer())), sha(bytes));
    const part = await fetch(`${t.url}/api/v1/artifacts/${sha(bytes)}`, { headers: { authorization: `Bearer ${t.adminToken}`, range: "bytes=1000-" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 1000-99999/100000`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000));
    const beyond = await fetch(`${t.url}/api/v1/artifacts/${sha(bytes)}`, { headers: { authorization: `Bearer ${t.adminToken}`, range: "bytes=200000-" } });
    assert.equal(beyond.status, 416);
  });

  it("refuses a body whose sha256 differs from the declared one and keeps nothing", async () => {
    const bytes = randomBytes(1000);
    const declared = sha(Buffer.from("something else"));
    const up = await t.api("PUT", "/api/v1/artifacts", { body: bytes, headers: { "x-slipway-sha256": declared } });
    assert.equal(up.status, 400);
    assert.equal(up.body.error.details[0].field, "x-slipway-sha256");
    assert.equal((await t.api("GET", `/api/v1/artifacts/${sha(bytes)}`)).status, 404);
    assert.equal((await t.api("GET", `/api/v1/artifacts/${declared}`)).status, 404);
  });

  it("refuses an artifact over the size limit with 413 and leaves no partial file", async () => {
    const bytes = randomBytes(LIMIT + 1);
    const up = await t.api("PUT", "/api/v1/artifacts", { body: bytes });
    assert.equal(up.status, 413);
    assert.equal(up.body.error.code, "payload_too_large");
    assert.deepEqual(await readdir(join(t.database.dataDir, "artifacts", "tmp")), []);
    assert.equal((await t.api("GET", `/api/v1/artifacts/${sha(bytes)}`)).status, 404);
  });

  it("refuses a JSON body on the upload route", async () => {
    const up = await t.api("PUT", "/api/v1/artifacts", { body: { not: "bytes" } });
    assert.equal(up.status, 400);
  });
});

describe("releases", () => {
  it("creates an immutable release from an uploaded artifact and refuses the same version again", async () => {
    const bytes = randomBytes(5000);
    await t.api("PUT", "/api/v1/artifacts", { body: bytes });
    const release = await t.api("POST", "/api/v1/services/api/releases", { body: { version: "1.4.0", artifact_sha256: sha(bytes), git_sha: "a1b2c3d4e5f6" } });
    assert.equal(release.status, 201);
    assert.deepEqual([release.body.version, release.body.artifact_size, release.body.created_by], ["1.4.0", 5000, "admin"]);
    const other = randomBytes(10);
    await t.api("PUT", "/api/v1/artifacts", { body: other });
    const again = await t.api("POST", "/api/v1/services/api/releases", { body: { version: "1.4.0", artifact_sha256: sha(other) } });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /immutable/);
    const shown = await t.api("GET", "/api/v1/services/api/releases/1.4.0");
    assert.equal(shown.body.artifact_sha256, sha(bytes));
  });

  it("refuses a release naming an artifact that was never uploaded, naming the field", async () => {
    const missing = await t.api("POST", "/api/v1/services/api/releases", { body: { version: "9.9.9", artifact_sha256: "0".repeat(64) } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details[0].field, "artifact_sha256");
    assert.equal((await t.api("GET", "/api/v1/services/api/releases/9.9.9")).status, 404);
  });

  it("lists releases newest first", async () => {
    for (const version of ["2.0.0", "2.1.0"]) {
      const bytes = randomBytes(64);
      await t.api("PUT", "/api/v1/artifacts", { body: bytes });
      assert.equal((await t.api("POST", "/api/v1/services/api/releases", { body: { version, artifact_sha256: sha(bytes) } })).status, 201);
    }
    const listed = await t.api("GET", "/api/v1/services/api/releases");
    assert.deepEqual(listed.body.items.map((r: any) => r.version).slice(0, 3), ["2.1.0", "2.0.0", "1.4.0"]);
  });
});
