// A simulated fleet for the pure deployment state machine's tests: hosts that do what their
// desired state says (healthily, unless told they are broken), and snapshots with test settings.
import { DeploySection, type RolloutSettings } from "../../src/core/manifest/schema.ts";
import type { DeploymentSnapshot, Effect, HostView } from "../../src/core/rollout/types.ts";

const { environments: _environments, ...defaults } = DeploySection.parse({});
export const settings = (overrides: Partial<RolloutSettings> = {}): RolloutSettings => ({ ...defaults, health_timeout: 60_000, ...overrides });

export function snapshot(overrides: Partial<DeploymentSnapshot> = {}): DeploymentSnapshot {
  return { state: "queued", releaseId: "v2", kind: "deploy", settings: settings(), hasMigration: false, progress: null, ...overrides };
}

export const host = (id: string, over: Partial<HostView> = {}): HostView => ({
  id,
  reachable: true,
  desiredReleaseId: "v1",
  actualReleaseId: "v1",
  health: "healthy",
  processState: "running",
  ...over,
});

/** A small fleet whose hosts do what their desired state says, healthily, unless told otherwise. */
export class Fleet {
  hosts: Map<string, HostView>;
  constructor(ids: string[]) {
    this.hosts = new Map(ids.map((id) => [id, host(id)]));
  }
  apply(effects: Effect[], converge = true, broken = new Set<string>()) {
    for (const effect of effects) {
      if (effect.type !== "set_desired") continue;
      for (const id of effect.hostIds) {
        const h = this.hosts.get(id)!;
        h.desiredReleaseId = effect.releaseId;
        if (converge) Object.assign(h, broken.has(id) && effect.releaseId === "v2" ? { actualReleaseId: "v2", health: "unhealthy", error: "health check failed: 500" } : { actualReleaseId: effect.releaseId, health: "healthy", error: undefined });
      }
    }
  }
  get views() {
    return [...this.hosts.values()].map((h) => ({ ...h }));
  }
}

