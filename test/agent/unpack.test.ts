// Unpacking real tarballs into the host layout, switching `current`, and pruning old releases.
import assert from "node:assert/strict";
import { mkdir, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "tar";
import { isUnpacked, listUnpackedReleases, readCurrentVersion, serviceLayout } from "../../src/agent/layout.ts";
import { pruneReleases, switchCurrent } from "../../src/agent/switch.ts";
import { removeInterruptedUnpacks, unpackRelease } from "../../src/agent/unpack.ts";
import { buildArtifact, FIXTURE_SERVICE_DIR } from "../support/artifact.ts";
import { tempDir } from "./helpers.ts";

let dir: { path: string; remove: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(() => dir.remove());

const release = (version: string, sha = "a".repeat(64)) => ({ id: `rel_${version}`, version, artifact_sha256: sha, artifact_size: 0, manifest: null });

describe("unpacking releases", () => {
  it("unpacks a real artifact into releases/<version> with its completion marker", async () => {
    const layout = serviceLayout(dir.path, "web");
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, "run: { start: node server.js }\n", { VERSION: "1.0.0" });
    await unpackRelease(artifact.path, layout, release("1.0.0", artifact.sha256), 1000);
    assert.equal(await readFile(join(layout.releaseDir("1.0.0"), "VERSION"), "utf8"), "1.0.0");
    assert.match(await readFile(join(layout.releaseDir("1.0.0"), "server.js"), "utf8"), /healthz/);
    assert.equal(await isUnpacked(layout, "1.0.0", artifact.sha256), true);
    assert.equal(await isUnpacked(layout, "1.0.0", "c".repeat(64)), false, "another artifact under the same version is not this one");
    assert.deepEqual((await readdir(layout.releases)).sort(), ["1.0.0"], "no temporary directory left");
  });

  it("refuses an archive with an entry outside the release directory, and leaves nothing behind", async () => {
    const layout = serviceLayout(dir.path, "evil");
    const src = join(dir.path, "evil-src", "inner");
    await mkdir(src, { recursive: true });
    await writeFile(join(dir.path, "evil-src", "outside.txt"), "escaped");
    await writeFile(join(src, "ok.txt"), "fine");
    const archive = join(dir.path, "evil.tar.gz");
    await create({ gzip: true, file: archive, cwd: src, preservePaths: true }, ["ok.txt", "../outside.txt"]);
    await assert.rejects(unpackRelease(archive, layout, release("6.6.6"), 1000), /could not be unpacked/);
    assert.deepEqual(await readdir(layout.releases), []);
  });

  it("refuses a file that is not a gzipped tarball", async () => {
    const layout = serviceLayout(dir.path, "junk");
    const junk = join(dir.path, "junk.bin");
    await writeFile(junk, "this is not a tarball");
    await assert.rejects(unpackRelease(junk, layout, release("1.0.0"), 1000), /could not be unpacked/);
    assert.deepEqual(await readdir(layout.releases), []);
  });

  it("removes unpacks a crash interrupted", async () => {
    const layout = serviceLayout(dir.path, "web");
    await mkdir(join(layout.releases, ".unpack-2.0.0-abcd"), { recursive: true });
    await removeInterruptedUnpacks(layout);
    assert.deepEqual(await readdir(layout.releases), ["1.0.0"]);
  });

  it("refuses a version or service name that is not a safe path segment", () => {
    assert.throws(() => serviceLayout(dir.path, "../etc"), /unsafe service name/);
    assert.throws(() => serviceLayout(dir.path, "web").releaseDir(".."), /unsafe release version/);
  });
});

describe("switching and pruning", () => {
  it("points current at a release with a relative symlink, replacing the previous one", async () => {
    const layout = serviceLayout(dir.path, "flip");
    assert.equal(await readCurrentVersion(layout), null);
    await mkdir(layout.root, { recursive: true });
    await switchCurrent(layout, "1.0.0");
    await switchCurrent(layout, "2.0.0");
    assert.equal(await readlink(layout.current), "releases/2.0.0");
    assert.equal(await readCurrentVersion(layout), "2.0.0");
    assert.deepEqual((await readdir(layout.root)).sort(), ["current"], "no temporary link left");
  });

  it("keeps the newest releases, and never the current or previous one", async () => {
    const layout = serviceLayout(dir.path, "prune");
    const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, "run: { start: node server.js }\n");
    for (const [i, version] of ["1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"].entries()) await unpackRelease(artifact.path, layout, release(version, artifact.sha256), 1000 + i);
    // 1.0.0 is current (a rollback), 2.0.0 the previous: both stay although they are the oldest.
    const removed = await pruneReleases(layout, 3, new Set(["1.0.0", "2.0.0"]));
    assert.deepEqual(removed.sort(), ["3.0.0", "4.0.0"]);
    assert.deepEqual((await listUnpackedReleases(layout)).map((r) => r.version), ["5.0.0", "2.0.0", "1.0.0"]);
  });
});
