// Tests that need someone: the flakiest (failed, then passed on a re-run of the same commit)
// by flake rate, and those failing for good by their failures; each can be quarantined.
import { ago, stamp } from "../../lib/format.ts";
import type { TestStats } from "../../lib/pipelines.ts";
import { Bar } from "./Bar.tsx";
import { QuarantineButton } from "./QuarantineButton.tsx";
import { TestName } from "./TestName.tsx";

export function ProblemTests({ kind, service, tests, now, onChanged }: { kind: "flakiest" | "failing"; service: string; tests: TestStats[]; now: number; onChanged: () => void }) {
  const flaky = kind === "flakiest";
  const most = Math.max(1, ...tests.map((t) => t.failures / Math.max(1, t.runs)));
  return (
    <section className="card" aria-label={flaky ? "flakiest tests" : "failing tests"}>
      <header className="card-head">
        <h2>{flaky ? "Flakiest tests" : "Failing tests"}</h2>
        <span className="muted">{flaky ? "failed, then passed when re-run on the same commit" : "failed on every attempt of a run"}</span>
      </header>
      {tests.length === 0 ? (
        <p className="empty">{flaky ? "No flaky tests in recent runs." : "No failing tests in recent runs."}</p>
      ) : (
        <table className="test-stats">
          <thead>
            <tr>
              <th>test</th>
              <th className="bar-head">{flaky ? "flake rate" : "failure rate"}</th>
              <th className="num">{flaky ? "flakes" : "failures"}</th>
              <th className="num">runs</th>
              <th>last run</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tests.map((test) => {
              const rate = flaky ? test.flake_rate : test.failures / Math.max(1, test.runs);
              return (
                <tr key={test.test_id} data-test={test.test_id}>
                  <td>
                    <TestName test={test} />
                  </td>
                  <td>
                    <Bar fraction={flaky ? rate : rate / most} tone={flaky ? "warn" : "bad"} label={`${Math.round(rate * 100)}%`} />
                  </td>
                  <td className="num">{flaky ? test.flakes : test.failures}</td>
                  <td className="num">{test.runs}</td>
                  <td title={stamp(test.last_run_at)}>{ago(test.last_run_at, now)}</td>
                  <td className="actions">{test.quarantined ? <span className="tag warn">quarantined</span> : <QuarantineButton service={service} testId={test.test_id} onDone={onChanged} />}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
