import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CannotTransitionError, ERROR_CODES, SlipwayError, httpStatusOf } from "./errors.ts";

describe("error taxonomy", () => {
  it("maps every code to a status, the user's failures to 4xx and the system's to 5xx", () => {
    const statuses = Object.fromEntries(ERROR_CODES.map((code) => [code, httpStatusOf(code)]));
    assert.deepEqual(statuses, {
      invalid_input: 400,
      unauthenticated: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      cannot_transition: 409,
      payload_too_large: 413,
      unavailable: 503,
      internal: 500,
    });
  });

  it("serialises to the API's error body without the cause or stack", () => {
    const error = new SlipwayError("invalid_input", "bad", { details: [{ field: "name", message: "too long" }], cause: new Error("secret internals") });
    assert.deepEqual(JSON.parse(JSON.stringify(error)), { code: "invalid_input", message: "bad", details: [{ field: "name", message: "too long" }] });
  });

  it("says which state a lost compare-and-set expected", () => {
    const error = new CannotTransitionError("deployment", "dep_1", "running");
    assert.equal(error.code, "cannot_transition");
    assert.match(error.message, /dep_1 .*'running'/);
  });
});
