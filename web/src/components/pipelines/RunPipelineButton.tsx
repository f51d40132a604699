// Starts a run of a service's pipeline by hand, on its default branch or the one typed in,
// then opens the new run.
import { useState, type FormEvent } from "react";
import { errorText } from "../../lib/api.ts";
import { useHub } from "../../lib/live.ts";
import { startRun } from "../../lib/pipelines.ts";
import { navigate, paths } from "../../lib/route.ts";

export function RunPipelineButton({ service }: { service: string }) {
  const hub = useHub();
  const [branch, setBranch] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const run = await startRun(hub.token, service, branch.trim() || null);
      navigate(paths.run(run.id));
    } catch (cause) {
      setError(errorText(cause));
      setBusy(false);
    }
  };
  return (
    <form className="run-pipeline" onSubmit={(event) => void submit(event)}>
      <input aria-label={`branch to run ${service} on`} placeholder="default branch" value={branch} onChange={(e) => setBranch(e.target.value)} spellCheck={false} />
      <button type="submit" className="action" disabled={busy}>
        {busy ? "Starting…" : "Run pipeline"}
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
