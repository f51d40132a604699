// A release's manifest as the desired state carries it: the server's already-parsed
// ServiceManifest, with every duration in milliseconds, validated again on receipt (through
// core/manifest/stored.ts, which keeps milliseconds milliseconds).
import type { HostRelease } from "../contracts/agent.ts";
import { ServiceManifest } from "../core/manifest/schema.ts";
import { reparseable } from "../core/manifest/stored.ts";

/** The release's manifest, validated; a clear error naming the fields when it is missing or wrong. */
export function manifestOf(release: HostRelease): ServiceManifest {
  if (release.manifest == null) throw new Error(`release ${release.version} has no slipway.yaml at the root of its artifact`);
  const parsed = ServiceManifest.safeParse(reparseable(release.manifest));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  throw new Error(`release ${release.version} has an invalid slipway.yaml: ${problems}`);
}
