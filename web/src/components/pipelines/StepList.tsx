// A job's steps in order: state, how long each took (or has run), and the exit code.
import { elapsedMs } from "../../lib/format.ts";
import type { StepStatus } from "../../lib/pipelines.ts";
import { jobTone, stateLabel } from "../../lib/tones.ts";
import { Badge } from "../Badge.tsx";

export function StepList({ steps, now }: { steps: StepStatus[]; now: number }) {
  if (steps.length === 0) return <p className="empty">This job has no steps.</p>;
  return (
    <table className="steps">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>step</th>
          <th>state</th>
          <th className="num">duration</th>
          <th className="num">exit</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((step) => (
          <tr key={step.index} data-step={step.index}>
            <td className="num muted">{step.index + 1}</td>
            <td className="mono step-name">{step.name}</td>
            <td>
              <Badge tone={jobTone(step.state)}>{stateLabel(step.state)}</Badge>
            </td>
            <td className="num mono">{elapsedMs(step.started_at, step.finished_at, now)}</td>
            <td className={`num mono ${step.exit_code ? "bad-text" : "muted"}`}>{step.exit_code ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
