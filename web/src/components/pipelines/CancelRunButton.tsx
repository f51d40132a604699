// Cancels a run that has not finished: jobs not started are cancelled, running steps are stopped.
import { useAction } from "../../lib/action.ts";
import { cancelRun } from "../../lib/pipelines.ts";
import { ActionError } from "../ActionError.tsx";

export function CancelRunButton({ run: id, onCancelled }: { run: string; onCancelled: () => void }) {
  const { busy, error, run } = useAction();
  const cancel = async () => {
    if (await run((token) => cancelRun(token, id))) onCancelled();
  };
  return (
    <span className="cancel-run">
      <button type="button" className="action danger" disabled={busy} onClick={() => void cancel()}>
        {busy ? "Cancelling…" : "Cancel run"}
      </button>
      <ActionError error={error} />
    </span>
  );
}
