import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlipwayError } from "../errors.ts";
import { matchesSelector, parseSelector } from "./selector.ts";

describe("label selectors", () => {
  it("matches hosts that have every selected label, and all hosts for an empty selector", () => {
    const labels = { region: "eu", role: "web", rack: "r1" };
    assert.equal(matchesSelector(labels, { region: "eu", role: "web" }), true);
    assert.equal(matchesSelector(labels, { region: "us" }), false);
    assert.equal(matchesSelector(labels, { zone: "a" }), false);
    assert.equal(matchesSelector(labels, {}), true);
  });

  it("parses k=v pairs, tolerating spaces and empty parts", () => {
    assert.deepEqual(parseSelector(" region=eu, role=web ,"), { region: "eu", role: "web" });
    assert.deepEqual(parseSelector("version=a=b"), { version: "a=b" });
  });

  it("names the part that is not a key=value pair", () => {
    assert.throws(
      () => parseSelector("region=eu,web", "query.selector"),
      (error: unknown) => error instanceof SlipwayError && error.code === "invalid_input" && error.details[0]?.field === "query.selector" && /'web'/.test(error.message),
    );
  });
});
