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
}
