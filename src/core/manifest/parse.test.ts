import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlipwayError } from "../errors.ts";
import { parseManifest } from "./parse.ts";
import { rolloutFor } from "./schema.ts";

function errorOf(text: string): SlipwayError {
  try {
    parseManifest(text);
  } catch (error) {
    if (error instanceof SlipwayError) return error;
    throw error;
  }
  throw new Error("expected the manifest to be refused");
}

describe("slipway.yaml", () => {
  it("reads a full runtime definition with durations and defaults", () => {
    const manifest = parseManifest(`
run:
  start: node server.js
  port: 8080
  health: { http: /healthz, interval: 500ms, timeout: 1s }
  env: { LOG_LEVEL: info, WORKERS: 4 }
hooks:
  migrate: ./migrate.sh
deploy:
  batch_size: 2
  environments:
    production: { batch_size: 25%, on_failure: pause }
`);
    assert.equal(manifest.run.health?.interval, 500);
    assert.equal(manifest.run.health?.unhealthy_threshold, 3);
    assert.deepEqual(manifest.run.env, { LOG_LEVEL: "info", WORKERS: "4" });
    assert.equal(manifest.run.stop_timeout, 10_000);
    assert.equal(manifest.hooks.migrate, "./migrate.sh");
    assert.equal(rolloutFor(manifest.deploy, "staging").batch_size, 2);
    const production = rolloutFor(manifest.deploy, "production", { pause_between_batches: 5000 });
    assert.deepEqual([production.batch_size, production.on_failure, production.pause_between_batches, production.strategy], ["25%", "pause", 5000, "rolling"]);
  });

  it("names the line, column and field of a wrong value", () => {
    const error = errorOf("run:\n  start: ./app\n  health:\n    http: /up\n    interval: soon\n");
    assert.equal(error.code, "invalid_input");
    assert.equal(error.details[0]?.field, "slipway.yaml:5:15 run.health.interval");
    assert.match(error.details[0].message, /'soon' is not a duration/);
  });

  it("suggests the key that was meant for a misspelt one", () => {
    const error = errorOf("run:\n  start: ./app\n  helth:\n    http: /up\n");
    assert.equal(error.details[0]?.field, "slipway.yaml:3:3 run.helth");
    assert.match(error.details[0].message, /unknown key 'helth' \(did you mean 'health'\?\)/);
  });

  it("reports a missing required field at its parent", () => {
    const error = errorOf("run:\n  port: 80\n");
    assert.equal(error.details[0]?.field, "slipway.yaml:2:3 run.start");
  });

  it("reports YAML syntax errors with their position", () => {
    const error = errorOf("run:\n  start: [unclosed\n");
    assert.match(error.message, /not valid YAML/);
    assert.match(error.details[0]!.field!, /^slipway.yaml:\d+:\d+$/);
  });

  it("refuses a health check with both or neither of http and command", () => {
    assert.match(errorOf("run:\n  start: x\n  health: { http: /a, command: 'true' }\n").details[0]!.message, /exactly one/);
  });
});
