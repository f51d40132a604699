// Where the run view draws each job of a run: a layered graph, one column per dependency depth
// (a job is one column right of the deepest job it needs), the shards of a job stacked inside
// one node, and an edge from each need to the job needing it. Within a column, jobs are ordered
// by the average height of what they need (one barycenter pass), which keeps the usual
// pipelines (fan-out, fan-in, chains) free of crossing edges; columns are centred vertically.
import { groupJobs, type JobGroup } from "./job-groups.ts";
import type { JobState } from "./pipelines.ts";

export interface GraphJob {
  id: string;
  key: string;
  name: string;
  shard: { index: number; total: number } | null;
  needs: string[];
  state: JobState;
}

export interface GraphNode<J extends GraphJob> extends JobGroup<J> {
  name: string;
  needs: string[];
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** An SVG path from the right edge of `from` to the left edge of `to`. */
  path: string;
}

export interface GraphLayout<J extends GraphJob> {
  nodes: GraphNode<J>[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export const GRAPH = { nodeWidth: 200, header: 38, shardRow: 20, shardPad: 6, gapX: 56, gapY: 14, margin: 8 } as const;

/** A node's height: its header, then one row per shard when it has more than one. */
export const nodeHeight = (shards: number): number => GRAPH.header + (shards > 1 ? shards * GRAPH.shardRow + GRAPH.shardPad : 0);

export function layoutJobs<J extends GraphJob>(jobs: readonly J[]): GraphLayout<J> {
  const groups = groupJobs(jobs);
  const keys = new Set(groups.map((g) => g.key));
  const needsOf = new Map(groups.map((g) => [g.key, [...new Set(g.jobs.flatMap((j) => j.needs))].filter((need) => keys.has(need) && need !== g.key)]));
  const depth = depths(groups.map((g) => g.key), needsOf);

  const columns: JobGroup<J>[][] = [];
  for (const group of groups) (columns[depth.get(group.key) ?? 0] ??= []).push(group);
  const heightOf = (group: JobGroup<J>) => nodeHeight(group.jobs.length);
  const columnHeight = (column: JobGroup<J>[]) => column.reduce((sum, g) => sum + heightOf(g), 0) + GRAPH.gapY * Math.max(0, column.length - 1);
  const tallest = Math.max(0, ...columns.map((c) => columnHeight(c ?? [])));

  const placed = new Map<string, GraphNode<J>>();
  columns.forEach((column = [], index) => {
    const centre = (key: string) => {
      const node = placed.get(key);
      return node ? node.y + node.height / 2 : 0;
    };
    const barycenter = (group: JobGroup<J>) => {
      const needs = needsOf.get(group.key) ?? [];
      return needs.length ? needs.reduce((sum, need) => sum + centre(need), 0) / needs.length : 0;
    };
    // Array.prototype.sort is stable: ties keep the order of slipway.yaml.
    const ordered = index === 0 ? column : [...column].sort((a, b) => barycenter(a) - barycenter(b));
    let y = GRAPH.margin + (tallest - columnHeight(column)) / 2;
    for (const group of ordered) {
      const first = group.jobs[0];
      const node: GraphNode<J> = {
        ...group,
        name: first ? jobName(first) : group.key,
        needs: needsOf.get(group.key) ?? [],
        column: index,
        x: GRAPH.margin + index * (GRAPH.nodeWidth + GRAPH.gapX),
        y,
        width: GRAPH.nodeWidth,
        height: heightOf(group),
      };
      placed.set(group.key, node);
      y += node.height + GRAPH.gapY;
    }
  });

  const nodes = groups.map((g) => placed.get(g.key)).filter((n): n is GraphNode<J> => n !== undefined);
  const edges = nodes.flatMap((to) =>
    to.needs.flatMap((need) => {
      const from = placed.get(need);
      return from ? [{ from: need, to: to.key, path: curve(from.x + from.width, from.y + from.height / 2, to.x, to.y + to.height / 2) }] : [];
    }),
  );
  return {
    nodes,
    edges,
    width: GRAPH.margin * 2 + Math.max(0, columns.length * GRAPH.nodeWidth + (columns.length - 1) * GRAPH.gapX),
    height: GRAPH.margin * 2 + tallest,
  };
}

/** A shard is named like its job with `(2/4)` after it; the node carries the job's own name. */
const jobName = (job: GraphJob): string => (job.shard ? job.name.replace(/ \(\d+\/\d+\)$/, "") : job.name);

/** Each job's depth: 0 without needs, else one more than its deepest need. A cycle (never valid) counts as no need. */
function depths(keys: string[], needsOf: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (key: string): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return -1;
    visiting.add(key);
    const value = Math.max(-1, ...(needsOf.get(key) ?? []).map(visit)) + 1;
    visiting.delete(key);
    depth.set(key, value);
    return value;
  };
  keys.forEach(visit);
  return depth;
}

/** A horizontal S-curve, as the edges of CI pipeline graphs usually are. */
function curve(x1: number, y1: number, x2: number, y2: number): string {
  const bend = Math.max(16, (x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
}
