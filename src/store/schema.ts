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
  /** Shared with the git host to sign push webhooks (HMAC needs it in the clear). */
  webhook_secret: string | null;
  /** The last pipeline run number given out. */
  run_counter: number;
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
  /** JSON list: "host" (a deployment target), "runner" (takes pipeline jobs), or both. */
  roles: string;
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
  pipeline_run_id: string | null;
  author: string | null;
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

/** One scrape of a service's run.metrics on a host; `samples` is JSON of [name, labels, value] triples. */
export interface MetricScrapesTable {
  id: Generated<number>;
  tenant_id: string;
  service_id: string;
  host_id: string;
  release_id: string | null;
  scraped_at: number;
  samples: string;
}

export interface PipelineRunsTable {
  id: string;
  tenant_id: string;
  service_id: string;
  number: number;
  state: string;
  trigger: string;
  branch: string | null;
  sha: string;
  message: string;
  author: string;
  triggered_by: string;
  /** The parsed pipeline of the run's commit (JSON), so later edits don't change a running run. */
  pipeline: string;
  git_describe: string | null;
  reason: string | null;
  release_id: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  version: number;
}

export interface PipelineJobsTable {
  id: string;
  run_id: string;
  tenant_id: string;
  job_key: string;
  shard_index: number;
  shard_total: number;
  state: string;
  /** runs_on as given in slipway.yaml (JSON). */
  labels: string;
  test_files: string;
  attempt: number;
  max_attempts: number;
  retry_when: string;
  runner_id: string | null;
  steps: string;
  tests: string | null;
  kept_sha256: string | null;
  reason: string | null;
  cancel_requested: number;
  queued_at: number | null;
  claimed_at: number | null;
  heartbeat_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  log_seq: number;
}

export interface JobLogsTable {
  id: Generated<number>;
  job_id: string;
  seq: number;
  attempt: number;
  step: number;
  stream: string;
  at: number;
  text: string;
}

export interface TestResultsTable {
  id: Generated<number>;
  tenant_id: string;
  service_id: string;
  run_id: string;
  job_id: string;
  sha: string;
  test_id: string;
  name: string;
  classname: string | null;
  file: string | null;
  outcome: string;
  quarantined: number;
  duration_ms: number;
  attempts: number;
  message: string | null;
  at: number;
}

export interface TestFileTimingsTable {
  service_id: string;
  file: string;
  duration_ms: number;
  updated_at: number;
}

export interface TestQuarantineTable {
  service_id: string;
  test_id: string;
  tenant_id: string;
  reason: string;
  automatic: number;
  created_by: string;
  created_at: number;
}

export interface ServiceVariablesTable {
  service_id: string;
  name: string;
  tenant_id: string;
  value: string;
  secret: number;
  updated_at: number;
}

export interface ServiceGitStateTable {
  service_id: string;
  heads: string;
  polled_at: number | null;
  error: string | null;
  schedule_fired: string;
}

export interface GitRefUpdatesTable {
  id: string;
  tenant_id: string;
  service_id: string;
  deployment_id: string;
  sha: string;
  refs: string;
  state: string;
  attempts: number;
  error: string | null;
  created_at: number;
  done_at: number | null;
}

export interface AnalysisLooksTable {
  deployment_id: string;
  tenant_id: string;
  stage: number;
  window_started_at: number;
  metric: string;
  at: number;
  final: number;
  outcome: string;
  rule: string;
  canary_value: number | null;
  canary_samples: number;
  baseline_value: number | null;
  baseline_samples: number | null;
  difference: number | null;
  difference_low: number | null;
  difference_high: number | null;
  allowed: number;
  reason: string;
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
  pipeline_runs: PipelineRunsTable;
  pipeline_jobs: PipelineJobsTable;
  job_logs: JobLogsTable;
  test_results: TestResultsTable;
  test_file_timings: TestFileTimingsTable;
  test_quarantine: TestQuarantineTable;
  service_variables: ServiceVariablesTable;
  service_git_state: ServiceGitStateTable;
  git_ref_updates: GitRefUpdatesTable;
  metric_scrapes: MetricScrapesTable;
  analysis_looks: AnalysisLooksTable;
}
