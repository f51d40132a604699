// `slipway status [SERVICE]`: what is live where. For one service, each environment with its live
// and previous release (who deployed it and when), the deployment in progress, and every host
// with the version it actually runs and its health. Without a service, one line per service and
// environment.
import type { Command } from "commander";
import type { EnvironmentStatus, HostServiceState, ServiceStatus } from "../contracts/deployments.ts";
import { apiCommand, clientFor } from "./client.ts";
import { deploymentApiFor } from "./deploy.ts";
import { ago, emit, formatLabels, renderTable, type Column } from "./output.ts";
import { stateLine } from "./progress.ts";

const hostHealth = (h: HostServiceState): string => (h.reachable ? h.health : "unreachable");

const hostColumns = (now: number): Column<HostServiceState>[] => [
  { header: "HOST", value: (h) => h.name },
  { header: "ADDRESS", value: (h) => (h.port ? `${h.address}:${h.port}` : h.address) },
  { header: "VERSION", value: (h) => h.actual_version ?? "-" },
  { header: "DESIRED", value: (h) => (h.desired_version === h.actual_version ? "" : (h.desired_version ?? "(none)")) },
  { header: "HEALTH", value: hostHealth },
  { header: "PROCESS", value: (h) => h.process_state },
  { header: "REPORTED", value: (h) => (h.reported_at ? ago(h.reported_at, now) : "-") },
  { header: "ERROR", value: (h) => h.error ?? "" },
];

const liveText = (live: EnvironmentStatus["live"], now: number): string => (live ? `${live.version}, deployed by ${live.deployed_by} ${ago(live.since, now)} (${live.deployment_id})` : "nothing yet");

function activeText(env: EnvironmentStatus): string {
  const queued = env.queued ? ` (+${env.queued} queued)` : "";
  if (!env.active) return env.queued ? `${env.queued} queued` : "none";
  const a = env.active;
  const batch = a.batch !== null && a.batches > 0 ? `, batch ${a.batch + 1}/${a.batches}` : "";
  return `${a.id}: ${a.kind} of ${a.release.version} by ${a.created_by}, ${a.state.replace("_", " ")}${batch}${queued}`;
}

export function describeStatus(status: ServiceStatus, now = Date.now()): string {
  const blocks = [`${status.service}`];
  if (status.environments.length === 0) blocks.push("No environments.");
  for (const env of status.environments) {
    const healthy = env.hosts.filter((h) => h.reachable && h.health === "healthy").length;
    const lines = [
      `${env.name}${env.production && !env.name.startsWith("prod") ? " (production)" : ""}  hosts ${formatLabels(env.selector)}: ${healthy}/${env.hosts.length} healthy`,
      `  live:      ${liveText(env.live, now)}`,
      `  previous:  ${env.previous ? liveText(env.previous, now) : "none"}`,
      `  active:    ${activeText(env)}`,
    ];
    lines.push(env.hosts.length ? renderTable(env.hosts, hostColumns(now)).split("\n").map((l) => `  ${l}`).join("\n") : "  No hosts match the selector.");
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n");
}

interface OverviewRow {
  service: string;
  env: EnvironmentStatus;
}

const overviewColumns = (now: number): Column<OverviewRow>[] => [
  { header: "SERVICE", value: (r) => r.service },
  { header: "ENVIRONMENT", value: (r) => r.env.name },
  { header: "LIVE", value: (r) => r.env.live?.version ?? "-" },
  { header: "PREVIOUS", value: (r) => r.env.previous?.version ?? "-" },
  { header: "DEPLOYED", value: (r) => (r.env.live ? `${ago(r.env.live.since, now)} by ${r.env.live.deployed_by}` : "-") },
  { header: "HOSTS", value: (r) => `${r.env.hosts.filter((h) => h.reachable && h.health === "healthy").length}/${r.env.hosts.length} healthy` },
  { header: "ACTIVE", value: (r) => (r.env.active ? `${r.env.active.release.version} ${stateLine({ ...r.env.active, hosts: [], events: [], settings: {}, stages: [], stage: null, analysis: null, warnings: [] })}` : r.env.queued ? `${r.env.queued} queued` : "-") },
];

export function registerStatusCommand(program: Command): void {
  apiCommand(program, "status")
    .description("what is live where: per environment the live and previous release, the deployment in progress and each host's actual version and health")
    .argument("[service]", "name or id (default: every service, briefly)")
    .action(async (service: string | undefined, _options: unknown, command: Command) => {
      const api = await deploymentApiFor(command);
      const now = Date.now();
      if (service) return emit(command, await api.status(service), (s) => describeStatus(s, now));
      const services = await (await clientFor(command)).listServices();
      const statuses = await Promise.all(services.map((s) => api.status(s.id)));
      const rows = statuses.flatMap((s) => s.environments.map((env) => ({ service: s.service, env })));
      emit(command, statuses, () => (statuses.length === 0 ? "No services." : rows.length === 0 ? "No environments." : renderTable(rows, overviewColumns(now))));
    });
}
