import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifest } from "./parse.ts";
import { parseStoredManifest } from "./stored.ts";

describe("stored manifests", () => {
  it("read back exactly as they were parsed, durations included", () => {
    const parsed = parseManifest("run:\n  start: x\n  health: { http: /h, interval: 2s }\n  stop_timeout: 3\ndeploy:\n  pause_between_batches: 1m\n");
    const again = parseStoredManifest(JSON.parse(JSON.stringify(parsed)));
    assert.deepEqual(again, parsed);
    assert.equal(again.run.health?.interval, 2000);
    assert.equal(again.run.stop_timeout, 3000);
  });
});
