import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { branchMatches, cronProblem, matchesPush, nextCronTime, timeZoneProblem } from "./triggers.ts";
import { Triggers } from "./schema.ts";

describe("push triggers", () => {
  it("matches exact branch names", () => {
    assert.equal(branchMatches(["main"], "main"), true);
    assert.equal(branchMatches(["main"], "main2"), false);
    assert.equal(branchMatches(["release.1"], "releasex1"), false, "a dot is a dot, not any character");
  });

  it("lets * match within one segment and ** across segments", () => {
    assert.equal(branchMatches(["release/*"], "release/1.2"), true);
    assert.equal(branchMatches(["release/*"], "release/1.2/hotfix"), false);
    assert.equal(branchMatches(["release/**"], "release/1.2/hotfix"), true);
    assert.equal(branchMatches(["*"], "feature/x"), false);
    assert.equal(branchMatches(["**"], "feature/x"), true);
    assert.equal(branchMatches(["feature/**/fix"], "feature/fix"), true);
    assert.equal(branchMatches(["feature/**/fix"], "feature/a/b/fix"), true);
    assert.equal(branchMatches(["v?"], "v1"), true);
    assert.equal(branchMatches(["v?"], "v10"), false);
  });

  it("lets a later ! pattern exclude what an earlier one matched", () => {
    const patterns = ["release/**", "!release/old/**"];
    assert.equal(branchMatches(patterns, "release/2.0"), true);
    assert.equal(branchMatches(patterns, "release/old/1.0"), false);
  });

  it("starts runs for matching pushes only, and none when push is off", () => {
    const triggers = Triggers.parse({ push: { branches: ["main", "release/*"] } });
    assert.equal(matchesPush(triggers, "main"), true);
    assert.equal(matchesPush(triggers, "feature/x"), false);
    assert.equal(matchesPush(Triggers.parse({}), "feature/deep/x"), true);
    assert.equal(matchesPush(Triggers.parse({ push: false }), "main"), false);
  });
});

describe("schedules", () => {
  const at = (iso: string) => Date.parse(iso);

  it("gives the next time strictly after the one given", () => {
    assert.equal(nextCronTime("0 3 * * *", at("2026-03-01T02:59:59Z")), at("2026-03-01T03:00:00Z"));
    assert.equal(nextCronTime("0 3 * * *", at("2026-03-01T03:00:00Z")), at("2026-03-02T03:00:00Z"));
    assert.equal(nextCronTime("*/15 9-17 * * MON-FRI", at("2026-02-27T17:50:00Z")), at("2026-03-02T09:00:00Z"), "Friday evening -> Monday morning");
    assert.equal(nextCronTime("@daily", at("2026-03-01T10:00:00Z")), at("2026-03-02T00:00:00Z"));
  });

  it("reads the expression in the time zone given, across a daylight saving change", () => {
    // Paris is UTC+1 in winter and UTC+2 from 29 March 2026.
    assert.equal(nextCronTime("0 3 * * *", at("2026-03-01T00:00:00Z"), "Europe/Paris"), at("2026-03-01T02:00:00Z"));
    assert.equal(nextCronTime("0 12 * * *", at("2026-03-29T00:00:00Z"), "Europe/Paris"), at("2026-03-29T10:00:00Z"));
  });

  it("explains a bad expression and accepts a good one", () => {
    assert.equal(cronProblem("0 3 * * *"), undefined);
    assert.match(cronProblem("0 25 * * *")!, /'0 25 \* \* \*' is not a cron expression \(.*hour.*\)/);
    assert.match(cronProblem("0 0 3 * * *")!, /five fields/);
    assert.match(cronProblem("sometimes")!, /is not a cron expression/);
  });

  it("knows IANA time zones", () => {
    assert.equal(timeZoneProblem("Europe/Paris"), undefined);
    assert.equal(timeZoneProblem("UTC"), undefined);
    assert.match(timeZoneProblem("Europe/Atlantis")!, /is not a time zone/);
  });
});
