// The run's test results: failures and flaky tests first, each with its message a click away;
// the passing ones after them, a page at a time, since a suite can have thousands.
import { Fragment, useState } from "react";
import { duration, plural } from "../../lib/format.ts";
import type { TestOutcome, TestResult } from "../../lib/pipelines.ts";
import { stateLabel, testTone } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";
import { QuarantineButton } from "../tests/QuarantineButton.tsx";

const ORDER: Record<TestOutcome, number> = { failed: 0, flaky: 1, skipped: 2, passed: 3 };
const PAGE = 200;

export function RunTests({ service, tests, onChanged }: { service: string; tests: TestResult[]; onChanged: () => void }) {
  const [shown, setShown] = useState(PAGE);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const sorted = [...tests].sort((a, b) => ORDER[a.outcome] - ORDER[b.outcome] || b.duration_ms - a.duration_ms);
  const count = (outcome: TestOutcome) => tests.filter((t) => t.outcome === outcome).length;
  // A test reported twice by one job (a retried attempt) still gets a key of its own.
  const seen = new Map<string, number>();
  const keyOf = (test: TestResult) => {
    const base = `${test.job}:${test.test_id}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  };
  const toggle = (key: string) => setOpen((previous) => {
    const next = new Set(previous);
    if (!next.delete(key)) next.add(key);
    return next;
  });
  return (
    <section className="card" aria-label="test results">
      <header className="card-head">
        <h2>Tests</h2>
        <span className="muted">
          {tests.length === 0 ? "no test reports" : `${count("passed")} passed · ${count("failed")} failed · ${count("flaky")} flaky · ${count("skipped")} skipped`}
        </span>
      </header>
      {tests.length > 0 && (
        <table className="test-results">
          <thead>
            <tr>
              <th>outcome</th>
              <th>test</th>
              <th>job</th>
              <th className="num">attempts</th>
              <th className="num">duration</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sorted.slice(0, shown).map((test) => {
              const key = keyOf(test);
              const expanded = open.has(key);
              return (
                <Fragment key={key}>
                  <tr data-test={test.test_id} className={test.message ? "clickable" : ""} onClick={() => test.message && toggle(key)} aria-expanded={test.message ? expanded : undefined}>
                    <td>
                      <Badge tone={testTone(test.outcome)}>{stateLabel(test.outcome)}</Badge>
                      {test.quarantined && <span className="tag warn">quarantined</span>}
                    </td>
                    <td className="test-name" title={test.test_id}>
                      {test.message && <span className="disclosure">{expanded ? "▾" : "▸"}</span>}
                      {test.name}
                      {(test.file ?? test.classname) && <span className="muted test-where"> {test.file ?? test.classname}</span>}
                    </td>
                    <td className="muted">{test.job}</td>
                    <td className="num">{test.attempts}</td>
                    <td className="num mono">{duration(test.duration_ms)}</td>
                    <td className="actions" onClick={(event) => event.stopPropagation()}>
                      {(test.outcome === "failed" || test.outcome === "flaky") && !test.quarantined && <QuarantineButton service={service} testId={test.test_id} onDone={onChanged} />}
                    </td>
                  </tr>
                  {expanded && test.message && (
                    <tr className="test-message">
                      <td colSpan={6}>
                        <pre>{test.message}</pre>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
      {sorted.length > shown && (
        <button type="button" className="link more" onClick={() => setShown((n) => n + PAGE)}>
          show {plural(Math.min(PAGE, sorted.length - shown), "more test")} of {sorted.length - shown} not shown
        </button>
      )}
    </section>
  );
}
