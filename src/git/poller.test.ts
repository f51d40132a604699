import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffHeads } from "./poller.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

describe("diffHeads", () => {
  it("reports a new branch with a null before and a moved one with its old head", () => {
    const changes = diffHeads(new Map([["main", A]]), new Map([["main", B], ["feature/x", C]]));
    assert.deepEqual(changes, [
      { branch: "feature/x", before: null, after: C },
      { branch: "main", before: A, after: B },
    ]);
  });

  it("ignores unchanged and deleted branches", () => {
    assert.deepEqual(diffHeads({ main: A, old: B }, { main: A }), []);
  });

  it("accepts plain objects and maps alike", () => {
    assert.deepEqual(diffHeads({ main: A }, new Map([["main", B]])), [{ branch: "main", before: A, after: B }]);
    assert.deepEqual(diffHeads(new Map(), {}), []);
  });

  it("sorts changes by branch name so that runs are queued in a stable order", () => {
    const changes = diffHeads({}, { zeta: A, alpha: B, "release/1": C });
    assert.deepEqual(
      changes.map((c) => c.branch),
      ["alpha", "release/1", "zeta"],
    );
  });
});
