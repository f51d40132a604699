// Starts a run of a service's pipeline by hand, on its default branch or the one typed in,
// then opens the new run.
import { useState, type FormEvent } from "react";
import { useAction } from "../../lib/action.ts";
import { startRun } from "../../lib/pipelines.ts";
import { navigate, paths } from "../../lib/route.ts";
import { ActionError } from "../ActionError.tsx";

export function RunPipelineButton({ service }: { service: string }) {
  const [branch, setBranch] = useState("");
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async (token) => navigate(paths.run((await startRun(token, service, branch.trim() || null)).id)));
  };
  return (
    <form className="run-pipeline" onSubmit={submit}>
      <input aria-label={`branch to run ${service} on`} placeholder="default branch" value={branch} onChange={(e) => setBranch(e.target.value)} spellCheck={false} />
      <button type="submit" className="action" disabled={busy}>
        {busy ? "Starting…" : "Run pipeline"}
      </button>
      <ActionError error={error} />
    </form>
  );
}
