// A release's manifest as the desired state carries it: the server's already-parsed
// ServiceManifest, with every duration in milliseconds. The agent validates it again on receipt
// with the same schema; since that schema reads a bare number as SECONDS (as people write it in
// slipway.yaml), durations are first written back as "<n>ms" so a parse of a parse is the same.
import type { HostRelease } from "../contracts/agent.ts";
import { ServiceManifest } from "../core/manifest/schema.ts";

const DURATION_PATHS = [
  ["run", "health", "interval"],
  ["run", "health", "timeout"],
  ["run", "health", "start_period"],
  ["run", "health", "start_interval"],
  ["run", "stop_timeout"],
  ["run", "metrics_interval"],
  ["hooks", "timeout"],
  ["deploy", "pause_between_batches"],
  ["deploy", "health_timeout"],
] as const;
const ROLLOUT_DURATIONS = ["pause_between_batches", "health_timeout"] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function msToText(holder: unknown, key: string): void {
  if (isRecord(holder) && typeof holder[key] === "number") holder[key] = `${holder[key]}ms`;
}

/** The wire form (durations in ms) -> what ServiceManifest parses to the same values. */
export function reparseable(manifest: unknown): unknown {
  if (!isRecord(manifest)) return manifest;
  const copy = structuredClone(manifest);
  for (const path of DURATION_PATHS) {
    let holder: unknown = copy;
    for (const key of path.slice(0, -1)) holder = isRecord(holder) ? holder[key] : undefined;
    msToText(holder, path.at(-1)!);
  }
  const environments = isRecord(copy.deploy) ? copy.deploy.environments : undefined;
  if (isRecord(environments)) for (const override of Object.values(environments)) for (const key of ROLLOUT_DURATIONS) msToText(override, key);
  return copy;
}

/** The release's manifest, validated; a clear error naming the fields when it is missing or wrong. */
export function manifestOf(release: HostRelease): ServiceManifest {
  if (release.manifest == null) throw new Error(`release ${release.version} has no slipway.yaml at the root of its artifact`);
  const parsed = ServiceManifest.safeParse(reparseable(release.manifest));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  throw new Error(`release ${release.version} has an invalid slipway.yaml: ${problems}`);
}
