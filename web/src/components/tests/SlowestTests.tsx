// The tests that cost the suite the most time, by their mean duration over recent runs.
import { ago, duration, stamp } from "../../lib/format.ts";
import type { TestStats } from "../../lib/pipelines.ts";
import { Bar } from "./Bar.tsx";
import { TestName } from "./TestName.tsx";

export function SlowestTests({ tests, now }: { tests: TestStats[]; now: number }) {
  const longest = Math.max(1, ...tests.map((t) => t.mean_ms));
  return (
    <section className="card" aria-label="slowest tests">
      <header className="card-head">
        <h2>Slowest tests</h2>
        <span className="muted">mean duration over recent runs</span>
      </header>
      {tests.length === 0 ? (
        <p className="empty">No test results yet: a job with a `tests:` section reports them.</p>
      ) : (
        <table className="test-stats">
          <thead>
            <tr>
              <th>test</th>
              <th className="bar-head">mean</th>
              <th className="num">last</th>
              <th className="num">runs</th>
              <th>last run</th>
            </tr>
          </thead>
          <tbody>
            {tests.map((test) => (
              <tr key={test.test_id} data-test={test.test_id}>
                <td>
                  <TestName test={test} />
                </td>
                <td>
                  <Bar fraction={test.mean_ms / longest} tone="active" label={duration(test.mean_ms)} />
                </td>
                <td className="num mono">{duration(test.last_ms)}</td>
                <td className="num">{test.runs}</td>
                <td title={stamp(test.last_run_at)}>{ago(test.last_run_at, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
