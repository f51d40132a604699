import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SlipwayError } from "../errors.ts";
import { placeholdersIn, renderVersion, versionTemplateProblem, type VersionContext } from "./version.ts";

const context: VersionContext = {
  run_number: 42,
  git_describe: "v1.4.0-3-g1a2b3c4",
  short_sha: "1a2b3c4",
  sha: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
  branch: "feature/login",
  date: Date.parse("2026-03-01T23:59:00Z"),
};

describe("release versions from templates", () => {
  it("fills in every placeholder", () => {
    assert.equal(renderVersion("1.0.{run_number}", context), "1.0.42");
    assert.equal(renderVersion("{git_describe}", context), "v1.4.0-3-g1a2b3c4");
    assert.equal(renderVersion("{date}.{run_number}+{short_sha}", context), "20260301.42+1a2b3c4");
    assert.equal(renderVersion("{sha}", context), context.sha);
  });

  it("turns characters a version may not hold into dashes", () => {
    assert.equal(renderVersion("{branch}-{run_number}", context), "feature-login-42");
  });

  it("refuses unknown placeholders and stray braces, naming the known ones", () => {
    assert.throws(() => renderVersion("1.{build}", context), (e: SlipwayError) => e.code === "invalid_input" && /unknown placeholder \{build\}.*\{run_number\}/.test(e.message));
    assert.match(versionTemplateProblem("1.{run_number")!, /unmatched \{ or \}/);
    assert.match(versionTemplateProblem("{run_numbr}")!, /unknown placeholder \{run_numbr\}/);
  });

  it("refuses a template that can not give a release version", () => {
    assert.match(versionTemplateProblem("v 1.{run_number}")!, /gives 'v 1.1', which is not a release version/);
    assert.match(versionTemplateProblem("-{run_number}")!, /not a release version/);
    assert.match(versionTemplateProblem(`${"x".repeat(120)}{sha}`)!, /longer than 128/);
    assert.equal(versionTemplateProblem("{run_number}"), undefined);
  });

  it("says which value a run lacks", () => {
    assert.throws(() => renderVersion("{git_describe}", { ...context, git_describe: undefined }), /uses \{git_describe\}, which this run does not have/);
    assert.throws(() => renderVersion("{branch}", { ...context, branch: null }), /uses \{branch\}/);
  });

  it("lists the placeholders a template uses, once each", () => {
    assert.deepEqual(placeholdersIn("{git_describe}-{run_number}.{run_number}"), ["git_describe", "run_number"]);
  });
});
