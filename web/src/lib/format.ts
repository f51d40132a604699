// Times and durations as people read them on an ops dashboard.

const UNITS: [limit: number, ms: number, name: string][] = [
  [60_000, 1_000, "second"],
  [3_600_000, 60_000, "minute"],
  [86_400_000, 3_600_000, "hour"],
  [30 * 86_400_000, 86_400_000, "day"],
  [Infinity, 30 * 86_400_000, "month"],
];

/** "just now", "3 minutes ago", "2 days ago". */
export function ago(iso: string | null, now: number): string {
  if (!iso) return "—";
  const since = Math.max(0, now - Date.parse(iso));
  if (since < 5_000) return "just now";
  for (const [limit, ms, name] of UNITS) {
    if (since < limit) {
      const count = Math.floor(since / ms);
      return `${count} ${name}${count === 1 ? "" : "s"} ago`;
    }
  }
  return "long ago";
}

/** "850ms", "42s", "3m 05s", "1h 02m". */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** How long a deployment, run or job took, or has been running; "—" before it starts. */
export function elapsed(d: { started_at: string | null; finished_at: string | null }, now: number): string {
  if (!d.started_at) return "—";
  const end = d.finished_at ? Date.parse(d.finished_at) : now;
  return duration(end - Date.parse(d.started_at));
}

/** Local date and time for tooltips: "2026-03-14 09:26:53". */
export function stamp(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** How long something timed in epoch milliseconds took (a step); "—" before it starts. */
export function elapsedMs(startedAt: number | null, finishedAt: number | null, now: number): string {
  if (startedAt === null) return "—";
  return duration((finishedAt ?? now) - startedAt);
}

/** The first line of a commit message. */
export const firstLine = (text: string): string => text.split("\n", 1)[0]?.trim() ?? "";

/** "Ada Lovelace <ada@example.com>" -> "Ada Lovelace", where a table has room for a name only. */
export const authorName = (author: string): string => author.replace(/\s*<[^>]*>\s*$/, "") || author;

export const shortSha = (sha: string): string => sha.slice(0, 7);
