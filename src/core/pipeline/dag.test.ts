import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { JOB_STATES, isTerminalJobState, pipelineProblems, readyJobs, runnerMatches, topologicalOrder, transitiveNeeds, type JobState } from "./dag.ts";

type Jobs = Record<string, { needs: string[] }>;

/** A random DAG: each job may need only jobs declared before it, so there is never a cycle. */
const dag = fc.integer({ min: 1, max: 12 }).chain((size) =>
  fc.tuple(...Array.from({ length: size }, (_, i) => fc.subarray(Array.from({ length: i }, (__, j) => `j${j}`)))).map((needs) => {
    // Declared in a shuffled-looking order (reversed), so declaration order is not already topological.
    const entries = needs.map((n, i): [string, { needs: string[] }] => [`j${i}`, { needs: n }]);
    const jobs: Jobs = Object.fromEntries(entries.reverse());
    return jobs;
  }),
);

describe("job graph", () => {
  it("orders jobs after everything they need, keeping the declared order where it is free", () => {
    const jobs: Jobs = { deploy: { needs: ["test", "lint"] }, test: { needs: ["build"] }, lint: { needs: [] }, build: { needs: [] } };
    assert.deepEqual(topologicalOrder(jobs), ["lint", "build", "test", "deploy"]);
  });

  it("refuses to order a cycle", () => {
    assert.throws(() => topologicalOrder({ a: { needs: ["b"] }, b: { needs: ["a"] }, c: { needs: [] } }), /a, b need each other/);
  });

  it("places every job of any DAG exactly once, after each of its needs", () => {
    fc.assert(
      fc.property(dag, (jobs) => {
        const order = topologicalOrder(jobs);
        assert.deepEqual([...order].sort(), Object.keys(jobs).sort());
        for (const [id, job] of Object.entries(jobs)) for (const need of job.needs) assert.ok(order.indexOf(need) < order.indexOf(id), `${need} before ${id}`);
      }),
    );
  });

  it("queues the jobs whose needs all succeeded and skips, transitively, those behind a failure", () => {
    const jobs: Jobs = { build: { needs: [] }, lint: { needs: [] }, test: { needs: ["build"] }, e2e: { needs: ["test"] }, docs: { needs: ["lint"] }, release: { needs: ["e2e", "docs"] } };
    assert.deepEqual(readyJobs(jobs, {}), { queue: ["build", "lint"], skip: [] });
    assert.deepEqual(readyJobs(jobs, { build: "succeeded", lint: "running" }), { queue: ["test"], skip: [] });
    assert.deepEqual(readyJobs(jobs, { build: "failed", lint: "succeeded" }), { queue: ["docs"], skip: ["test", "e2e", "release"] });
    assert.deepEqual(readyJobs(jobs, { build: "succeeded", lint: "cancelled", test: "queued" }), { queue: [], skip: ["docs", "release"] });
  });

  it("never queues a job before all its needs succeeded, and drives every run to an end", () => {
    const outcome = fc.constantFrom<JobState>("succeeded", "succeeded", "failed", "cancelled");
    fc.assert(
      fc.property(dag, fc.infiniteStream(outcome), (jobs, outcomes) => {
        const states: Record<string, JobState> = {};
        const outcomesOf = outcomes[Symbol.iterator]();
        for (let round = 0; round <= Object.keys(jobs).length; round++) {
          const { queue, skip } = readyJobs(jobs, states);
          assert.equal(new Set([...queue, ...skip]).size, queue.length + skip.length, "a job is either queued or skipped");
          for (const id of queue) {
            assert.ok(jobs[id]!.needs.every((need) => states[need] === "succeeded"), `${id} queued before its needs succeeded`);
            states[id] = outcomesOf.next().value as JobState;
          }
          for (const id of skip) {
            assert.ok([...transitiveNeeds(jobs, id)].some((need) => states[need] !== "succeeded"), `${id} skipped though every need succeeded`);
            states[id] = "skipped";
          }
          if (queue.length === 0 && skip.length === 0) break;
        }
        // Each round settles at least one level of the graph, so by now every job has ended.
        for (const id of Object.keys(jobs)) assert.ok(states[id] !== undefined && isTerminalJobState(states[id]), `${id} never ran or was skipped`);
        for (const [id, job] of Object.entries(jobs)) if (job.needs.every((n) => states[n] === "succeeded")) assert.notEqual(states[id], "skipped");
      }),
    );
  });

  it("lists the job states with the terminal ones marked", () => {
    assert.deepEqual(
      JOB_STATES.filter(isTerminalJobState),
      ["succeeded", "failed", "cancelled", "skipped"],
    );
  });
});

describe("pipeline checks", () => {
  it("finds nothing wrong with a sound pipeline", () => {
    const jobs = { build: { needs: [] }, test: { needs: ["build"], tests: { files: ["t/*"] } }, release: { needs: ["test"], package: { files: ["dist"] } } };
    assert.deepEqual(pipelineProblems({ jobs }), []);
  });

  it("finds no cycle in any DAG and always finds one once a job needs one of its dependents", () => {
    fc.assert(
      fc.property(dag, fc.nat(), (jobs, pick) => {
        assert.deepEqual(pipelineProblems({ jobs }), []);
        const withNeeds = Object.keys(jobs).filter((id) => jobs[id]!.needs.length > 0);
        if (withNeeds.length === 0) return;
        const dependent = withNeeds[pick % withNeeds.length]!;
        const need = jobs[dependent]!.needs[0]!;
        const cyclic = { ...jobs, [need]: { needs: [...jobs[need]!.needs, dependent] } };
        const problems = pipelineProblems({ jobs: cyclic });
        assert.equal(problems.length >= 1, true);
        assert.match(problems[0]!.message, /cycle: .* -> /);
      }),
    );
  });
});

describe("runner labels", () => {
  const labels = { os: "linux", arch: "arm64", gpu: "" };

  it("matches any runner when the job names no labels", () => {
    assert.equal(runnerMatches(undefined, {}), true);
    assert.equal(runnerMatches([], labels), true);
  });

  it("reads a list item as a label key the runner must have, or key=value", () => {
    assert.equal(runnerMatches(["gpu"], labels), true);
    assert.equal(runnerMatches("os=linux", labels), true);
    assert.equal(runnerMatches(["os=linux", "arch=arm64"], labels), true);
    assert.equal(runnerMatches(["os=linux", "arch=amd64"], labels), false);
    assert.equal(runnerMatches(["docker"], labels), false);
    assert.equal(runnerMatches(["toString"], labels), false);
  });

  it("reads a map as keys and the values they must have", () => {
    assert.equal(runnerMatches({ os: "linux" }, labels), true);
    assert.equal(runnerMatches({ os: "darwin" }, labels), false);
    assert.equal(runnerMatches({ region: "eu" }, labels), false);
  });
});
