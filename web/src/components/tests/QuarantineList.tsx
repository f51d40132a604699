// Tests in quarantine: their failures are reported but fail no run. Each says who put it there
// (Slipway itself past the flake-rate threshold, or a person) and why, and can be released.
import { useAction } from "../../lib/action.ts";
import { ago, stamp } from "../../lib/format.ts";
import { releaseTest, type QuarantineEntry } from "../../lib/pipelines.ts";
import { ActionError } from "../ActionError.tsx";

export function QuarantineList({ service, entries, now, onChanged }: { service: string; entries: QuarantineEntry[]; now: number; onChanged: () => void }) {
  return (
    <section className="card" aria-label="quarantine">
      <header className="card-head">
        <h2>Quarantine</h2>
        <span className="muted">failures of these tests are reported but do not fail a run</span>
      </header>
      {entries.length === 0 ? (
        <p className="empty">No test is in quarantine.</p>
      ) : (
        <table className="quarantine">
          <thead>
            <tr>
              <th>test</th>
              <th>reason</th>
              <th>by</th>
              <th>since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.test_id} data-test={entry.test_id}>
                <td className="test-name mono">{entry.test_id}</td>
                <td className="reason-cell" title={entry.reason}>
                  {entry.reason}
                </td>
                <td>{entry.automatic ? <span className="tag warn">automatic</span> : entry.created_by}</td>
                <td title={stamp(entry.created_at)}>{ago(entry.created_at, now)}</td>
                <td className="actions">
                  <ReleaseButton service={service} testId={entry.test_id} onDone={onChanged} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ReleaseButton({ service, testId, onDone }: { service: string; testId: string; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const release = async () => {
    if (await run((token) => releaseTest(token, service, testId))) onDone();
  };
  return (
    <>
      <button type="button" className="action small" disabled={busy} onClick={() => void release()}>
        release from quarantine
      </button>
      <ActionError error={error} />
    </>
  );
}
