// Manifests are stored and sent parsed, with every duration in milliseconds. The slipway.yaml
// schema reads a bare number as SECONDS (as people write it), so a parsed manifest is read back
// through this, which first writes each duration as "<n>ms": a parse of a parse is the same.
// The server reads stored manifests this way, and the agent the manifests of its desired state.
import { ServiceManifest } from "./schema.ts";

/** The durations of a deploy section (and of each environment's override of it). "*": every element. */
const ROLLOUT_DURATIONS = [
  ["pause_between_batches"],
  ["health_timeout"],
  ["wave_analyze"],
  ["canary", "bake"],
  ["canary", "steps", "*", "analyze"],
  ["canary", "steps", "*", "pause"],
  ["analysis", "interval"],
  ["analysis", "prometheus", "timeout"],
];

const DURATION_PATHS: readonly (readonly string[])[] = [
  ["run", "health", "interval"],
  ["run", "health", "timeout"],
  ["run", "health", "start_period"],
  ["run", "health", "start_interval"],
  ["run", "stop_timeout"],
  ["run", "metrics_interval"],
  ["hooks", "timeout"],
  ...ROLLOUT_DURATIONS.map((path) => ["deploy", ...path]),
  ...ROLLOUT_DURATIONS.map((path) => ["deploy", "environments", "*", ...path]),
];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Writes the number at `path` under `holder` back as "<n>ms" ("*" goes into every element of an array or record). */
function msToText(holder: unknown, path: readonly string[]): void {
  const [key, ...rest] = path;
  if (key === undefined) return;
  if (key === "*") {
    for (const child of Array.isArray(holder) ? holder : isRecord(holder) ? Object.values(holder) : []) msToText(child, rest);
  } else if (isRecord(holder)) {
    if (rest.length > 0) msToText(holder[key], rest);
    else if (typeof holder[key] === "number") holder[key] = `${holder[key]}ms`;
  }
}

/** The wire form (durations in ms) -> what ServiceManifest parses to the same values. */
export function reparseable(manifest: unknown): unknown {
  if (!isRecord(manifest)) return manifest;
  const copy = structuredClone(manifest);
  for (const path of DURATION_PATHS) msToText(copy, path);
  return copy;
}

export function parseStoredManifest(stored: unknown): ServiceManifest {
  return ServiceManifest.parse(reparseable(stored));
}
