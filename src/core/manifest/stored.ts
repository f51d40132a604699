// Manifests are stored parsed, with durations in milliseconds. The YAML schema reads a bare
// number as seconds, so a stored manifest is read back through this, which writes durations
// as "<n>ms" first.
import { ServiceManifest } from "./schema.ts";

const DURATION_KEYS = new Set(["interval", "start_interval", "timeout", "start_period", "stop_timeout", "metrics_interval", "pause_between_batches", "health_timeout", "analyze", "pause", "bake", "wave_analyze"]);

function reviveDurations(value: unknown, key = ""): unknown {
  if (typeof value === "number" && DURATION_KEYS.has(key)) return `${value}ms`;
  if (Array.isArray(value)) return value.map((v) => reviveDurations(v));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveDurations(v, k)]));
  return value;
}

export function parseStoredManifest(stored: unknown): ServiceManifest {
  return ServiceManifest.parse(reviveDurations(stored));
}
