import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { shellQuote, testCommand } from "./command.ts";

describe("testCommand", () => {
  it("puts the files in place of {files}", () => {
    assert.equal(testCommand("node --test --test-reporter=junit {files}", ["test/a.test.js", "test/b.test.js"]), "node --test --test-reporter=junit test/a.test.js test/b.test.js");
  });

  it("keeps each file one shell word, whatever its name", () => {
    const files = ["test/it's here.test.js", "test/$(touch pwned).js", "plain.js", "a;b", "dollar$&.js"];
    const command = testCommand(`printf '%s\\n' {files}`, files);
    assert.equal(execFileSync("sh", ["-c", command], { encoding: "utf8" }), files.map((f) => `${f}\n`).join(""));
  });

  it("quotes only what needs it", () => {
    assert.equal(shellQuote("src/a-b_c.test.ts"), "src/a-b_c.test.ts");
    assert.equal(shellQuote("a b"), "'a b'");
  });
});
