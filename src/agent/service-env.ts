// The environment a service (and its hooks and health command) runs with: the agent's own
// environment minus anything SLIPWAY_* (the agent's token never reaches a service), then the
// manifest's run.env, then what Slipway sets itself, which wins.
import type { ServiceManifest } from "../core/manifest/schema.ts";

export interface ServiceEnvContext {
  service: string;
  release: { id: string; version: string };
  address: string;
  hostName: string;
}

export function serviceEnv(base: NodeJS.ProcessEnv, manifest: ServiceManifest, context: ServiceEnvContext): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(base).filter(([key]) => !key.startsWith("SLIPWAY_")));
  return {
    ...inherited,
    ...manifest.run.env,
    ...(manifest.run.port !== undefined ? { PORT: String(manifest.run.port) } : {}),
    HOST: context.address,
    BIND_ADDRESS: context.address,
    SLIPWAY_SERVICE: context.service,
    SLIPWAY_RELEASE: context.release.version,
    SLIPWAY_RELEASE_ID: context.release.id,
    SLIPWAY_HOST: context.hostName,
  };
}

/**
 * Set only on the service's own process (not on hooks or health commands): marks it, and what it
 * starts, so that an agent restarted after a crash finds it even without process.json.
 */
export const SERVICE_MARKER_ENV = "SLIPWAY_SERVICE_DIR";
