// Crash safety of the real server process. A client uploads artifacts and creates releases
// without pause while the server is killed with SIGKILL several times at random moments and
// restarted on the same store. The client keeps a ledger of what it attempted and what the
// server acknowledged; after the last restart the store must hold every acknowledged change,
// only whole artifacts, and exactly one audit entry per committed change. A second test sends
// SIGTERM during a large upload and expects the upload to finish before a clean exit.
//
// Runs on SQLite, and on PostgreSQL when SLIPWAY_TEST_DATABASE_URL is set.
import assert from "node:assert/strict";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../src/store/connection.ts";
import { apiClient, type Api } from "./support/api.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { waitFor } from "./support/wait.ts";

const SERVICES = ["checkout", "search", "payments", "catalog"];
const WORKERS = 2;
const KILLS = 5;
const MB = 1024 * 1024;

const sha256Of = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Mostly small artifacts, one in eight between 1 and 5 MB so that kills land mid-upload. */
function randomArtifact(): Buffer {
  return randomInt(8) === 0 ? randomBytes(randomInt(MB, 5 * MB)) : randomBytes(randomInt(1024, 64 * 1024));
}

interface Ledger {
  /** Every artifact the client tried to upload, by sha256, and whether a 201 came back. */
  artifacts: Map<string, { size: number; acked: boolean }>;
  /** Every release the client tried to create, by version (unique across services). */
  releases: Map<string, { service: string; sha256: string; acked: boolean }>;
}

const tmpDirOf = (dataDir: string) => join(dataDir, "artifacts", "tmp");

/**
 * One client: upload an artifact, release it, repeat; every fifth round re-uploads the previous
 * small artifact instead (an upload of known bytes must stay idempotent). Ends quietly when the
 * server is gone after `isKilled()` became true; any other failure is the test's failure.
 */
async function clientLoop(api: Api, ledger: Ledger, worker: string, isKilled: () => boolean): Promise<void> {
  let previousSmall: Buffer | undefined;
  for (let n = 0; ; n++) {
    try {
      const bytes = n % 5 === 4 && previousSmall ? previousSmall : randomArtifact();
      if (bytes.length < MB) previousSmall = bytes;
      const sha256 = sha256Of(bytes);
      if (!ledger.artifacts.has(sha256)) ledger.artifacts.set(sha256, { size: bytes.length, acked: false });
      const uploaded = await api("PUT", "/api/v1/artifacts", { body: bytes, headers: { "x-slipway-sha256": sha256 } });
      assert.equal(uploaded.status, 201, `upload answered ${uploaded.status}: ${JSON.stringify(uploaded.body)}`);
      assert.deepEqual([uploaded.body.sha256, uploaded.body.size], [sha256, bytes.length]);
      ledger.artifacts.get(sha256)!.acked = true;

      const version = `${worker}.${n}`;
      const service = SERVICES[n % SERVICES.length]!;
      ledger.releases.set(version, { service, sha256, acked: false });
      const released = await api("POST", `/api/v1/services/${service}/releases`, { body: { version, artifact_sha256: sha256 } });
      assert.equal(released.status, 201, `release answered ${released.status}: ${JSON.stringify(released.body)}`);
      ledger.releases.get(version)!.acked = true;
    } catch (error) {
      if (isKilled() && error instanceof TypeError) return; // fetch failed: the server is gone
      throw error;
    }
  }
}

/**
 * A release whose answer was lost in a crash is retried with the same version: it must either
 * be created now (201) or be refused as existing (409) — never fail otherwise, since its
 * artifact was acknowledged.
 */
async function retryInDoubt(api: Api, ledger: Ledger): Promise<number> {
  let count = 0;
  for (const [version, release] of ledger.releases) {
    if (release.acked) continue;
    const retried = await api("POST", `/api/v1/services/${release.service}/releases`, { body: { version, artifact_sha256: release.sha256 } });
    assert.ok(retried.status === 201 || retried.status === 409, `retrying release ${version} answered ${retried.status}: ${JSON.stringify(retried.body)}`);
    release.acked = true;
    count++;
  }
  return count;
}

async function download(url: string, token: string, sha256: string): Promise<{ status: number; bytes: Buffer }> {
  const response = await fetch(`${url}/api/v1/artifacts/${sha256}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** The whole audit log of the token's tenant, paged back from the newest entry. */
async function wholeAuditLog(api: Api): Promise<{ id: number; action: string; target_id: string }[]> {
  const entries: { id: number; action: string; target_id: string }[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await api("GET", `/api/v1/audit?limit=500${before === undefined ? "" : `&before=${before}`}`);
    assert.equal(page.status, 200);
    entries.push(...page.body.items);
    if (page.body.items.length < 500) return entries;
    before = page.body.items.at(-1).id;
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe("server process crash safety", () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await server?.kill("SIGKILL");
    await database.drop();
  });

  const start = () => startServerProcess({ dataDir: database.dataDir, databaseUrl: database.databaseUrl });

  it("keeps every acknowledged release, only whole artifacts and one audit entry per change across repeated kill -9", async (t) => {
    server = await start();
    const adminToken = server.adminToken;
    assert.ok(adminToken, "the first start of an empty store prints an admin token");
    let api = apiClient(server.url, adminToken);
    for (const name of SERVICES) {
      const created = await api("POST", "/api/v1/services", { body: { name, repository_url: `https://git.example.com/${name}.git`, environments: [{ name: "production", selector: { role: "web" } }] } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }

    const ledger: Ledger = { artifacts: new Map(), releases: new Map() };
    let strayTempFilesSeen = 0;
    let retried = 0;
    for (let round = 0; round < KILLS; round++) {
      let killed = false;
      const clients = Array.from({ length: WORKERS }, (_, w) => clientLoop(api, ledger, `r${round}w${w}`, () => killed));
      const failure = Promise.race(clients).then(() => {
        if (!killed) assert.fail("a client stopped while the server was still up");
      });
      const acknowledgedBefore = [...ledger.releases.values()].filter((r) => r.acked).length;
      await Promise.race([failure, new Promise((resolve) => setTimeout(resolve, randomInt(300, 2500)))]);
      // Something must have been committed this round, so a crash has something to lose.
      await Promise.race([failure, waitFor(() => [...ledger.releases.values()].filter((r) => r.acked).length > acknowledgedBefore, { timeoutMs: 15_000, what: "a release acknowledged this round" })]);
      // The first kill waits for an upload to be half written, so the temp-file sweep is exercised.
      if (round === 0) {
        await Promise.race([failure, waitFor(async () => (await readdir(tmpDirOf(database.dataDir))).length > 0, { timeoutMs: 15_000, intervalMs: 2, what: "an upload in flight" })]);
      }
      killed = true;
      const exit = await server.kill("SIGKILL");
      assert.equal(exit.signal, "SIGKILL");
      await Promise.all(clients);
      strayTempFilesSeen += (await readdir(tmpDirOf(database.dataDir))).length;

      server = await start();
      assert.equal(server.adminToken, null, "a restart on a bootstrapped store must not create another admin token");
      api = apiClient(server.url, adminToken);
      retried += await retryInDoubt(api, ledger);
    }
    assert.ok(strayTempFilesSeen > 0, "at least one kill should have interrupted an upload");
    t.diagnostic(`${KILLS} kills; ${ledger.releases.size} releases, ${ledger.artifacts.size} artifacts attempted; ${retried} in-doubt releases retried; ${strayTempFilesSeen} temp files left by kills`);

    // The last restart: ready, nothing half-written left behind.
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await readdir(tmpDirOf(database.dataDir)), [], "stray temporary upload files survived the restart");

    for (const [version, release] of ledger.releases) {
      const got = await api("GET", `/api/v1/services/${release.service}/releases/${version}`);
      assert.equal(got.status, 200, `acknowledged release ${release.service}@${version} is missing`);
      assert.equal(got.body.artifact_sha256, release.sha256);
    }

    const store = openStore({ dataDir: database.dataDir, databaseUrl: database.databaseUrl, poolSize: 1 });
    const [releaseRows, artifactRows] = await Promise.all([
      store.db.selectFrom("releases").select(["id", "version", "artifact_sha256", "artifact_size"]).execute(),
      store.db.selectFrom("artifacts").select(["sha256", "size"]).execute(),
    ]).finally(() => store.close());
    assert.equal(releaseRows.length, ledger.releases.size, "every release the client attempted was retried until it existed");

    const artifactSize = new Map(artifactRows.map((row) => [row.sha256, Number(row.size)]));
    for (const [sha256, artifact] of ledger.artifacts) {
      if (artifact.acked) assert.equal(artifactSize.get(sha256), artifact.size, `acknowledged artifact ${sha256} is missing or has the wrong size`);
    }
    for (const row of releaseRows) {
      assert.equal(ledger.releases.get(row.version)?.sha256, row.artifact_sha256, `release ${row.version} names an artifact the client never gave it`);
      assert.equal(Number(row.artifact_size), artifactSize.get(row.artifact_sha256));
    }
    for (const [sha256, size] of artifactSize) {
      assert.equal(ledger.artifacts.get(sha256)?.size, size, `artifact row ${sha256} was never uploaded with that size`);
      const { status, bytes } = await download(server.url, adminToken, sha256);
      assert.equal(status, 200, `artifact ${sha256} cannot be downloaded`);
      assert.equal(bytes.length, size, `artifact ${sha256} is partial`);
      assert.equal(sha256Of(bytes), sha256, `artifact ${sha256} has other bytes`);
    }

    const audit = await wholeAuditLog(api);
    const releaseAudits = countBy(audit.filter((e) => e.action === "release.create"), (e) => e.target_id);
    const artifactAudits = countBy(audit.filter((e) => e.action === "artifact.upload"), (e) => e.target_id);
    for (const row of releaseRows) assert.equal(releaseAudits.get(row.id), 1, `release ${row.version} has ${releaseAudits.get(row.id) ?? 0} release.create entries`);
    for (const sha256 of artifactSize.keys()) assert.equal(artifactAudits.get(sha256), 1, `artifact ${sha256} has ${artifactAudits.get(sha256) ?? 0} artifact.upload entries`);
    assert.equal(releaseAudits.size, releaseRows.length, "a release.create entry names a release that was never committed");
    assert.equal(artifactAudits.size, artifactSize.size, "an artifact.upload entry names an artifact that was never committed");
  });
});

describe("server process graceful shutdown", () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await server?.kill("SIGKILL");
    await database.drop();
  });

  it("finishes an upload in flight when sent SIGTERM, then exits 0", async () => {
    server = await startServerProcess({ dataDir: database.dataDir, databaseUrl: database.databaseUrl, logLevel: "info" });
    const running = server;
    const adminToken = running.adminToken!;
    const bytes = randomBytes(24 * MB);
    const sha256 = sha256Of(bytes);
    const { port } = new URL(running.url);

    const upload = request({ host: "127.0.0.1", port, method: "PUT", path: "/api/v1/artifacts", agent: false, headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/octet-stream", "content-length": bytes.length, "x-slipway-sha256": sha256 } });
    const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
      upload.on("error", reject);
      upload.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
        response.on("error", reject);
      });
    });
    upload.write(bytes.subarray(0, MB));
    await waitFor(async () => (await readdir(tmpDirOf(database.dataDir))).length > 0, { what: "the upload to reach the blob store" });

    const exited = running.kill("SIGTERM"); // sends the signal now, resolves at exit
    await waitFor(() => running.stderrTail().includes("shutting down"), { what: "the server to start shutting down" });
    await waitFor(() => fetch(`${running.url}/healthz`).then(() => false, () => true), { what: "the server to stop accepting connections" });

    upload.end(bytes.subarray(MB));
    const response = await answer;
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.deepEqual([response.body.sha256, response.body.size], [sha256, bytes.length]);
    const exit = await exited;
    assert.deepEqual(exit, { code: 0, signal: null }, running.stderrTail());

    const blob = await readFile(join(database.dataDir, "artifacts", "sha256", sha256.slice(0, 2), sha256));
    assert.equal(sha256Of(blob), sha256);
    server = await startServerProcess({ dataDir: database.dataDir, databaseUrl: database.databaseUrl });
    const { status, bytes: downloaded } = await download(server.url, adminToken, sha256);
    assert.equal(status, 200);
    assert.equal(sha256Of(downloaded), sha256);
  });
});
