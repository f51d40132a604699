// Quarantines a test: its failures no longer fail runs, but are still reported. Asks why first;
// the reason is kept with the quarantine for whoever wonders later.
import { useState, type FormEvent } from "react";
import { useAction } from "../../lib/action.ts";
import { quarantineTest } from "../../lib/pipelines.ts";
import { ActionError } from "../ActionError.tsx";

export function QuarantineButton({ service, testId, onDone }: { service: string; testId: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!(await run((token) => quarantineTest(token, service, testId, reason.trim() || "quarantined from the dashboard")))) return;
    setOpen(false);
    onDone();
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
      <ActionError error={error} />
    </form>
  );
}
