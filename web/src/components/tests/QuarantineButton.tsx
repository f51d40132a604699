// Quarantines a test: its failures no longer fail runs, but are still reported. Asks why first;
// the reason is kept with the quarantine for whoever wonders later.
import { useState, type FormEvent } from "react";
import { errorText } from "../../lib/api.ts";
import { useHub } from "../../lib/live.ts";
import { quarantineTest } from "../../lib/pipelines.ts";

export function QuarantineButton({ service, testId, onDone }: { service: string; testId: string; onDone: () => void }) {
  const hub = useHub();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await quarantineTest(hub.token, service, testId, reason.trim() || "quarantined from the dashboard");
      setOpen(false);
      onDone();
    } catch (cause) {
      setError(errorText(cause));
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <button type="button" className="action small" onClick={() => setOpen(true)}>
        quarantine
      </button>
    );
  }
  return (
    <form className="quarantine-form" onSubmit={(event) => void submit(event)}>
      <input aria-label="reason for the quarantine" placeholder="why (e.g. flaky since #123)" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} autoFocus />
      <button type="submit" className="action small" disabled={busy}>
        {busy ? "…" : "Quarantine"}
      </button>
      <button type="button" className="link" onClick={() => setOpen(false)}>
        cancel
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
