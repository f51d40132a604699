// A deployment's stages left to right (canary: 1 host -> 25% -> pause -> the rest -> region us
// -> bake), each with its status, its hosts and how long it is analyzed; the stage being
// analyzed counts down to the end of its window.
import { windowSpan } from "../../lib/canary.ts";
import type { Deployment } from "../../lib/api.ts";
import type { AnalysisWindow, Stage } from "../../lib/deployments.ts";
import { duration, plural, stamp } from "../../lib/format.ts";
import { stageTone, stateLabel } from "../../lib/tones.ts";

export function StageStepper({ d, windows, now }: { d: Deployment; windows: AnalysisWindow[]; now: number }) {
  if (d.stages.length === 0) return null;
  return (
    <section className="card" aria-label="stages">
      <header className="card-head">
        <h2>Stages</h2>
        <span className="muted">{d.stage !== null && d.stages[d.stage] ? `stage ${d.stage + 1} of ${d.stages.length}: ${d.stages[d.stage]!.label}` : plural(d.stages.length, "stage")}</span>
      </header>
      <ol className="stepper">
        {d.stages.map((stage, index) => (
          <StageStep key={index} index={index} stage={stage} window={d.analysis?.stage === index ? d.analysis : null} analyzed={windows.filter((w) => w.stage === index)} now={now} />
        ))}
      </ol>
    </section>
  );
}

function StageStep({ index, stage, window, analyzed, now }: { index: number; stage: Stage; window: Deployment["analysis"]; analyzed: AnalysisWindow[]; now: number }) {
  const tone = stageTone(stage.status);
  return (
    <li className={`step tone-${tone}`} data-stage={index} data-status={stage.status} aria-label={`stage ${index + 1}: ${stage.label}, ${stateLabel(stage.status)}`}>
      <div className="step-top">
        <span className="step-dot" />
        <span className="step-index">{index + 1}</span>
        <span className="step-status">{stateLabel(stage.status)}</span>
      </div>
      <div className="step-label">{stage.label}</div>
      <div className="step-meta muted">{detail(stage, analyzed)}</div>
      {stage.status === "analyzing" && window && <Countdown window={window} now={now} />}
    </li>
  );
}

/** What a stage does: its hosts, a pause's length, how long it is (or was) analyzed. */
function detail(stage: Stage, analyzed: AnalysisWindow[]): string {
  const parts: string[] = [];
  if (stage.pause !== null) parts.push(stage.pause === "until_resumed" ? "until a person resumes" : `pause ${duration(stage.pause)}`);
  else if (stage.hosts > 0) parts.push(plural(stage.hosts, "host"));
  if (stage.analyze_ms > 0) {
    const spent = analyzed.map(windowSpan).filter((s) => s.decided);
    const last = spent.at(-1);
    parts.push(last && stage.status !== "analyzing" ? `analyzed ${duration(last.to - last.from)} of ${duration(stage.analyze_ms)}` : `analyze ${duration(stage.analyze_ms)}`);
  }
  return parts.join(" · ") || "—";
}

function Countdown({ window, now }: { window: NonNullable<Deployment["analysis"]>; now: number }) {
  const left = Date.parse(window.until) - now;
  return (
    <div className="step-countdown" title={`analysis window ${stamp(window.started_at)} to ${stamp(window.until)}`}>
      {left > 0 ? `${duration(left)} left` : "deciding…"}
    </div>
  );
}
