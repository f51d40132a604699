// Row types of the tables, as Kysely sees them. Times are epoch milliseconds (bigint in
// PostgreSQL, parsed to number; integer in SQLite). JSON columns are text, parsed by the
// aggregate modules. Booleans are 0/1 integers so both dialects read them the same way.
import type { Generated } from "kysely";

export interface TenantsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  name: string;
  email: string | null;
  system_admin: number;
  created_at: number;
}

export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  role: string;
  created_at: number;
}

export interface ApiTokensTable {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  kind: string;
  token_hash: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ServicesTable {
  id: string;
  tenant_id: string;
  name: string;
  repository_url: string;
  environments: string;
  created_at: number;
  updated_at: number;
  revision: number;
}

export interface HostsTable {
  id: string;
  tenant_id: string;
  name: string;
  address: string;
  labels: string;
  registered_at: number;
  last_heartbeat_at: number;
  desired_generation: number;
  agent_version: string | null;
}

export interface ArtifactsTable {
  tenant_id: string;
  sha256: string;
  size: number;
  created_at: number;
}

export interface ReleasesTable {
  id: string;
  tenant_id: string;
  service_id: string;
  version: string;
  git_sha: string | null;
  artifact_sha256: string;
  artifact_size: number;
  created_by: string;
  created_at: number;
  manifest: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string | null;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
  request_id: string | null;
  ip: string | null;
  created_at: number;
}

export interface HostServicesTable {
  host_id: string;
  service_id: string;
  tenant_id: string;
  desired_release_id: string | null;
  desired_deployment_id: string | null;
  desired_at: number;
  actual_release_id: string | null;
  attempted_release_id: string | null;
  process_state: string;
  health: string;
  restarts: number;
  error: string | null;
  pid: number | null;
  port: number | null;
  releases_on_disk: string;
  reported_at: number | null;
}

export interface DeploymentsTable {
  id: string;
  tenant_id: string;
  service_id: string;
  environment: string;
  release_id: string;
  kind: string;
  state: string;
  version: number;
  settings: string;
  has_migration: number;
  progress: string | null;
  reason: string | null;
  previous_release_id: string | null;
  created_by: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
}

export interface DeploymentEventsTable {
  id: Generated<number>;
  deployment_id: string;
  seq: number;
  from_state: string;
  to_state: string;
  reason: string;
  actor: string;
  at: number;
}

export interface EnvironmentHistoryTable {
  id: Generated<number>;
  tenant_id: string;
  service_id: string;
  environment: string;
  release_id: string;
  deployment_id: string;
  at: number;
}

export interface AgentTasksTable {
  id: string;
  tenant_id: string;
  host_id: string;
  service_id: string;
  deployment_id: string;
  kind: string;
  release_id: string;
  status: string;
  output: string;
  created_at: number;
  finished_at: number | null;
}

export interface HostLogsTable {
  id: Generated<number>;
  tenant_id: string;
  host_id: string;
  service_id: string;
  stream: string;
  line: string;
  at: number;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  api_tokens: ApiTokensTable;
  services: ServicesTable;
  hosts: HostsTable;
  artifacts: ArtifactsTable;
  releases: ReleasesTable;
  audit_log: AuditLogTable;
  host_services: HostServicesTable;
  deployments: DeploymentsTable;
  deployment_events: DeploymentEventsTable;
  environment_history: EnvironmentHistoryTable;
  agent_tasks: AgentTasksTable;
  host_logs: HostLogsTable;
}
