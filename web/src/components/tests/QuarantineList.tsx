// Tests in quarantine: their failures are reported but fail no run. Each says who put it there
// (Slipway itself past the flake-rate threshold, or a person) and why, and can be released.
import { useState } from "react";
import { errorText } from "../../lib/api.ts";
import { ago, stamp } from "../../lib/format.ts";
import { useHub } from "../../lib/live.ts";
import { releaseTest, type QuarantineEntry } from "../../lib/pipelines.ts";

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
  const hub = useHub();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const release = async () => {
    setBusy(true);
    setError(null);
    try {
      await releaseTest(hub.token, service, testId);
      onDone();
    } catch (cause) {
      setError(errorText(cause));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="action small" disabled={busy} onClick={() => void release()}>
        release from quarantine
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
