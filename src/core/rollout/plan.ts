// Planning a rollout: which hosts go in which batch. A batch is never larger than the number
// of hosts allowed to be out of service at once, so a rolling deployment never takes down
// more than `max_unavailable` hosts.
import type { RolloutSettings } from "../manifest/schema.ts";

/** A count or a percentage of `total`, rounded up, at least 1 (when there are hosts at all). */
export function resolveCount(spec: number | string, total: number): number {
  if (total === 0) return 0;
  if (typeof spec === "number") return Math.max(1, Math.min(spec, total));
  const percent = Number(spec.replace("%", ""));
  return Math.max(1, Math.min(total, Math.ceil((total * percent) / 100)));
}

/** Like resolveCount, but zero stays zero (for limits such as max_unreachable). */
export function resolveLimit(spec: number | string, total: number): number {
  if (spec === 0 || spec === "0%") return 0;
  return resolveCount(spec, total);
}

export function batchSizeFor(settings: Pick<RolloutSettings, "strategy" | "batch_size" | "max_unavailable">, total: number): number {
  if (settings.strategy === "all_at_once") return total;
  return Math.min(resolveCount(settings.batch_size, total), resolveCount(settings.max_unavailable, total));
}

/** Splits hosts (already in rollout order) into consecutive batches. */
export function planBatches(hostIds: readonly string[], settings: Pick<RolloutSettings, "strategy" | "batch_size" | "max_unavailable">): string[][] {
  const size = batchSizeFor(settings, hostIds.length);
  const batches: string[][] = [];
  for (let i = 0; i < hostIds.length; i += size) batches.push(hostIds.slice(i, i + size));
  return batches;
}
