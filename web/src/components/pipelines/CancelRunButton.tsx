// Cancels a run that has not finished: jobs not started are cancelled, running steps are stopped.
import { useState } from "react";
import { errorText } from "../../lib/api.ts";
import { useHub } from "../../lib/live.ts";
import { cancelRun } from "../../lib/pipelines.ts";

export function CancelRunButton({ run, onCancelled }: { run: string; onCancelled: () => void }) {
  const hub = useHub();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await cancelRun(hub.token, run);
      onCancelled();
    } catch (cause) {
      setError(errorText(cause));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="cancel-run">
      <button type="button" className="action danger" disabled={busy} onClick={() => void cancel()}>
        {busy ? "Cancelling…" : "Cancel run"}
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
