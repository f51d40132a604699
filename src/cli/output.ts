// What commands print: aligned tables and short lines for people, or the API's JSON with --json
// (one document on stdout, nothing else there), so scripts can pipe it to jq.
import type { Command } from "commander";

export const JSON_FLAG_HELP = "print JSON instead of text";

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.value(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? "").length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd()).join("\n");
}

const wantsJson = (command: Command): boolean => command.opts<{ json?: boolean }>().json === true;

/** Prints `data` as JSON with --json, otherwise the text `human` makes of it. */
export function emit<T>(command: Command, data: T, human: (data: T) => string): void {
  process.stdout.write((wantsJson(command) ? JSON.stringify(data, null, 2) : human(data)) + "\n");
}

/** Prints a list as a JSON array with --json, otherwise as a table (or `empty` when there are no rows). */
export function emitList<T>(command: Command, rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
  emit(command, rows, () => (rows.length === 0 ? empty : renderTable(rows, columns)));
}

/** `2026-03-01T09:30:12.345Z` -> `2026-03-01 09:30:12Z`; a dash for none. */
export const shortTime = (iso: string | null | undefined): string => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-");

/** How long ago `iso` was, relative to `now`: `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

export const formatLabels = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",") || "-";

/** Collects a repeatable option (`--role a --role b`) into an array, for commander. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
