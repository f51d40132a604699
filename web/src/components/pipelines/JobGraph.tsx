// The run's jobs as a graph (layout in lib/dag-layout.ts): a node per job coloured by state with
// its duration, the shards of a split job stacked inside its node, an edge from every need.
// Clicking a job (or one of its shards) selects it.
import type { KeyboardEvent } from "react";
import { GRAPH, layoutJobs, type GraphNode } from "../../lib/dag-layout.ts";
import { elapsed } from "../../lib/format.ts";
import { groupSpan } from "../../lib/job-groups.ts";
import type { RunJob } from "../../lib/pipelines.ts";
import { jobTone, stateLabel } from "../../lib/tones.ts";

/** Keeps SVG text inside its node: SVG does not wrap or clip text by itself. */
const fit = (text: string, chars: number) => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);

const activate = (select: () => void) => ({
  role: "button",
  tabIndex: 0,
  onClick: (event: { stopPropagation: () => void }) => {
    event.stopPropagation();
    select();
  },
  onKeyDown: (event: KeyboardEvent) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    select();
  },
});

export function JobGraph({ jobs, selected, onSelect, now }: { jobs: RunJob[]; selected: string | null; onSelect: (jobId: string) => void; now: number }) {
  const layout = layoutJobs(jobs);
  const selectedKey = jobs.find((j) => j.id === selected)?.key ?? null;
  return (
    <div className="job-graph">
      <svg width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="group" aria-label="jobs">
        {layout.edges.map((edge) => (
          <path key={`${edge.from}->${edge.to}`} className={`edge ${edge.from === selectedKey || edge.to === selectedKey ? "related" : ""}`} d={edge.path} data-edge={`${edge.from}->${edge.to}`} />
        ))}
        {layout.nodes.map((node) => (
          <JobNode key={node.key} node={node} selected={selected} onSelect={onSelect} now={now} />
        ))}
      </svg>
    </div>
  );
}

function JobNode({ node, selected, onSelect, now }: { node: GraphNode<RunJob>; selected: string | null; onSelect: (jobId: string) => void; now: number }) {
  const sharded = node.jobs.length > 1;
  const isSelected = node.jobs.some((j) => j.id === selected);
  // The node itself opens the shard that most needs a look: a failed one, else a running one.
  const primary = node.jobs.find((j) => j.state === "failed") ?? node.jobs.find((j) => j.state === "running") ?? node.jobs[0];
  const title = `${node.name}: ${stateLabel(node.state)}${sharded ? `, ${node.jobs.length} shards` : ""}${node.needs.length ? ` — needs ${node.needs.join(", ")}` : ""}`;
  return (
    <g className={`node tone-${jobTone(node.state)} ${isSelected ? "selected" : ""}`} transform={`translate(${node.x},${node.y})`} data-job-key={node.key} aria-label={title} {...activate(() => primary && onSelect(primary.id))}>
      <title>{title}</title>
      <rect className="node-box" width={node.width} height={node.height} rx={5} />
      <rect className="node-bar" width={4} height={node.height} rx={2} />
      <text className="node-name" x={12} y={16}>
        {fit(node.name, 24)}
      </text>
      <text className="node-state" x={12} y={31}>
        {stateLabel(node.state)}
        {sharded ? ` · ${node.jobs.length} shards` : ""}
      </text>
      <text className="node-time" x={node.width - 8} y={31} textAnchor="end">
        {elapsed(groupSpan(node.jobs), now)}
      </text>
      {sharded &&
        node.jobs.map((job, index) => (
          <g
            key={job.id}
            className={`shard tone-${jobTone(job.state)} ${job.id === selected ? "selected" : ""}`}
            transform={`translate(0,${GRAPH.header + index * GRAPH.shardRow})`}
            data-job={job.id}
            aria-label={`shard ${index + 1} of ${node.jobs.length}: ${stateLabel(job.state)}`}
            {...activate(() => onSelect(job.id))}
          >
            <rect className="shard-box" x={8} width={node.width - 14} height={GRAPH.shardRow - 3} rx={3} />
            <circle className="shard-dot" cx={18} cy={(GRAPH.shardRow - 3) / 2} r={4} />
            <text className="shard-label" x={28} y={12.5}>
              {job.shard ? `${job.shard.index + 1}/${job.shard.total}` : index + 1} {stateLabel(job.state)}
            </text>
            <text className="node-time" x={node.width - 12} y={12.5} textAnchor="end">
              {elapsed(job, now)}
            </text>
          </g>
        ))}
    </g>
  );
}
