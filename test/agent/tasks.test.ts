// Migration tasks: run once, with the backup first, and never a second time after an agent
// restart interrupted them.
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AgentTask } from "../../src/contracts/agent.ts";
import { ReleaseCache } from "../../src/agent/release-cache.ts";
import { INTERRUPTED, TaskRunner } from "../../src/agent/tasks.ts";
import { parseManifest } from "../../src/core/manifest/parse.ts";
import { buildArtifact, FIXTURE_SERVICE_DIR } from "../support/artifact.ts";
import { waitFor } from "../support/wait.ts";
import { hostRelease, MemoryArtifacts, silentLogger, tempDir } from "./helpers.ts";

let dir: { path: string; remove: () => Promise<void> };
const artifacts = new MemoryArtifacts();
before(async () => {
  dir = await tempDir();
});
after(() => dir.remove());

function runner(): TaskRunner {
  const logger = silentLogger();
  return new TaskRunner({
    dataDir: dir.path,
    address: "127.0.0.1",
    hostName: "h1",
    baseEnv: { PATH: process.env.PATH },
    releases: new ReleaseCache({ source: artifacts, downloadsDir: join(dir.path, "downloads"), now: Date.now, logger }),
    now: Date.now,
    logger,
    onChange: () => undefined,
  });
}

async function task(id: string, hooks: string, files: Record<string, string>): Promise<AgentTask> {
  const yaml = `run: { start: node server.js }\nhooks: ${hooks}\n`;
  const artifact = await buildArtifact(FIXTURE_SERVICE_DIR, yaml, files);
  artifacts.add(artifact);
  return { id, kind: "migrate", service_id: "svc_db", service: "db", deployment_id: "dep_1", release: hostRelease(`rel_${id}`, `1.0.${id.length}`, artifact, JSON.parse(JSON.stringify(parseManifest(yaml)))) };
}

const report = (r: TaskRunner, id: string) => r.reports().find((t) => t.id === id);
const ran = (file: string) => readFile(join(dir.path, file), "utf8").catch(() => "");

describe("migration tasks", () => {
  it("runs backup then migrate in the release directory, once, and reports the output", async () => {
    const migrate = await task("t1", "{ backup: ./backup.sh, migrate: ./migrate.sh }", {
      "backup.sh": `#!/bin/sh\necho backup >> ${dir.path}/order\n`,
      "migrate.sh": `#!/bin/sh\necho migrate >> ${dir.path}/order\necho "migrated $SLIPWAY_RELEASE in $(pwd)"\n`,
    });
    const r = runner();
    await r.init();
    r.setDesired([migrate]);
    const done = await waitFor(() => report(r, "t1")?.status === "succeeded" && report(r, "t1"), { what: "the migration" });
    assert.match(done.output, new RegExp(`migrated 1.0.2 in ${dir.path}/services/db/releases/1.0.2`));
    assert.equal(await ran("order"), "backup\nmigrate\n");
    // The server lists it again (its record was not updated yet), or a new agent starts: not rerun.
    r.setDesired([migrate]);
    const again = runner();
    await again.init();
    again.setDesired([migrate]);
    await waitFor(() => report(again, "t1")?.status === "succeeded", { what: "the recorded result" });
    assert.equal(await ran("order"), "backup\nmigrate\n");
  });

  it("does not run migrate when the backup fails, and reports why", async () => {
    const migrate = await task("t22", "{ backup: 'echo disk full >&2; exit 1', migrate: 'touch migrated' }", {});
    const r = runner();
    await r.init();
    r.setDesired([migrate]);
    const failed = await waitFor(() => report(r, "t22")?.status === "failed" && report(r, "t22"), { what: "the failure" });
    assert.match(failed.output, /disk full\nbackup hook failed with exit code 1/);
  });

  it("reports a migration interrupted by an agent restart as failed and never runs it again", async () => {
    const migrate = await task("t333", "{ migrate: ./migrate.sh }", { "migrate.sh": `#!/bin/sh\necho ran >> ${dir.path}/interrupted\n` });
    // What a previous agent left when it died in the middle of the migration.
    await mkdir(join(dir.path, "tasks"), { recursive: true });
    await writeFile(join(dir.path, "tasks", "t333.json"), JSON.stringify({ id: "t333", service: "db", version: "1.0.4", status: "started", output: "", started_at: 1, finished_at: null }));
    const r = runner();
    await r.init();
    r.setDesired([migrate]);
    const failed = await waitFor(() => report(r, "t333")?.status === "failed" && report(r, "t333"), { what: "the interrupted task" });
    assert.match(failed.output, new RegExp(INTERRUPTED));
    assert.equal(await ran("interrupted"), "");
  });
});
