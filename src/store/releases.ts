// Artifacts known to a tenant, and releases. A release is immutable: a second one with the same
// service and version is refused. It can only name an artifact the tenant has uploaded, and an
// artifact row is written only after its blob is durably on disk, so no release ever points at
// a missing or partial artifact.
import type { Kysely } from "kysely";
import { conflict, invalidInput, notFound } from "../core/errors.ts";
import type { Artifact, Release, ReleaseCreate } from "../contracts/releases.ts";
import type { ServiceManifest } from "../core/manifest/schema.ts";
import { inTransaction } from "./transaction.ts";
import { recordAudit, type ActorContext } from "./audit.ts";
import { isUniqueViolation } from "./db-errors.ts";
import { iso, newId } from "./ids.ts";
import type { ArtifactsTable, Database, ReleasesTable } from "./schema.ts";
import { getService } from "./services.ts";

const toArtifact = (row: ArtifactsTable): Artifact => ({ sha256: row.sha256, size: row.size, created_at: iso(row.created_at) });

/** Records that the tenant holds a blob (already durable in the blob store). Idempotent. */
export async function recordArtifact(db: Kysely<Database>, actor: ActorContext, blob: { sha256: string; size: number }): Promise<Artifact> {
  return inTransaction(db, async (trx) => {
    const existing = await trx.selectFrom("artifacts").selectAll().where("tenant_id", "=", actor.tenantId).where("sha256", "=", blob.sha256).executeTakeFirst();
    if (existing) return toArtifact(existing);
    const row: ArtifactsTable = { tenant_id: actor.tenantId, sha256: blob.sha256, size: blob.size, created_at: actor.now };
    const inserted = await trx.insertInto("artifacts").values(row).onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
      await recordAudit(trx, actor, "artifact.upload", { type: "artifact", id: blob.sha256 }, { size: blob.size });
    }
    return toArtifact(row);
  });
}

export async function getArtifact(db: Kysely<Database>, tenantId: string, sha256: string): Promise<Artifact> {
  const row = await db.selectFrom("artifacts").selectAll().where("tenant_id", "=", tenantId).where("sha256", "=", sha256).executeTakeFirst();
  if (!row) throw notFound("artifact", sha256);
  return toArtifact(row);
}

export async function hasArtifact(db: Kysely<Database>, tenantId: string, sha256: string): Promise<boolean> {
  const row = await db.selectFrom("artifacts").select("sha256").where("tenant_id", "=", tenantId).where("sha256", "=", sha256).executeTakeFirst();
  return row !== undefined;
}

const toRelease = (row: ReleasesTable, service: string): Release => ({
  id: row.id,
  service,
  version: row.version,
  git_sha: row.git_sha,
  artifact_sha256: row.artifact_sha256,
  artifact_size: row.artifact_size,
  created_by: row.created_by,
  created_at: iso(row.created_at),
  pipeline_run_id: row.pipeline_run_id,
  author: row.author,
  manifest: row.manifest === null ? null : (JSON.parse(row.manifest) as unknown),
});

/** Where a release came from, when a pipeline run built it. */
export interface ReleaseOrigin {
  pipelineRunId: string;
  author: string;
}

/** `manifest` is the parsed slipway.yaml found in the artifact, or null when it has none. */
export async function createRelease(db: Kysely<Database>, actor: ActorContext, serviceNameOrId: string, input: ReleaseCreate, manifest: ServiceManifest | null, origin?: ReleaseOrigin): Promise<Release> {
  try {
    return await inTransaction(db, (trx) => insertRelease(trx, actor, serviceNameOrId, input, manifest, origin));
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`release ${input.version} of ${serviceNameOrId} already exists; releases are immutable`);
    throw error;
  }
}

/** Records a release inside the caller's transaction (a pipeline run records it with the run's end). */
export async function insertRelease(trx: Kysely<Database>, actor: ActorContext, serviceNameOrId: string, input: ReleaseCreate, manifest: ServiceManifest | null, origin?: ReleaseOrigin): Promise<Release> {
    const service = await getService(trx, actor.tenantId, serviceNameOrId);
    const artifact = await trx.selectFrom("artifacts").selectAll().where("tenant_id", "=", actor.tenantId).where("sha256", "=", input.artifact_sha256).executeTakeFirst();
    if (!artifact) {
      throw invalidInput(`no artifact with sha256 ${input.artifact_sha256} has been uploaded`, [{ field: "artifact_sha256", message: "upload the artifact first (PUT /api/v1/artifacts)" }]);
    }
    const existing = await trx.selectFrom("releases").select("id").where("service_id", "=", service.id).where("version", "=", input.version).executeTakeFirst();
    if (existing) throw conflict(`release ${input.version} of ${service.name} already exists; releases are immutable`);
    const row: ReleasesTable = {
      id: newId("rel", actor.now),
      tenant_id: actor.tenantId,
      service_id: service.id,
      version: input.version,
      git_sha: input.git_sha ?? null,
      artifact_sha256: artifact.sha256,
      artifact_size: artifact.size,
      created_by: actor.actorName,
      created_at: actor.now,
      manifest: manifest === null ? null : JSON.stringify(manifest),
      pipeline_run_id: origin?.pipelineRunId ?? null,
      author: origin?.author ?? null,
    };
    await trx.insertInto("releases").values(row).execute();
    await recordAudit(trx, actor, "release.create", { type: "release", id: row.id }, { service: service.name, version: row.version, git_sha: row.git_sha, artifact_sha256: row.artifact_sha256, ...(origin ? { pipeline_run_id: origin.pipelineRunId } : {}) });
    return toRelease(row, service.name);
}

export async function listReleases(db: Kysely<Database>, tenantId: string, serviceNameOrId: string, limit = 100): Promise<Release[]> {
  const service = await getService(db, tenantId, serviceNameOrId);
  const rows = await db.selectFrom("releases").selectAll().where("service_id", "=", service.id).orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute();
  return rows.map((row) => toRelease(row, service.name));
}

export async function getReleaseById(db: Kysely<Database>, tenantId: string, id: string): Promise<Release & { service_id: string }> {
  const row = await db
    .selectFrom("releases")
    .innerJoin("services", "services.id", "releases.service_id")
    .selectAll("releases")
    .select("services.name as service_name")
    .where("releases.tenant_id", "=", tenantId)
    .where("releases.id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("release", id);
  return { ...toRelease(row, row.service_name), service_id: row.service_id };
}

export async function getRelease(db: Kysely<Database>, tenantId: string, serviceNameOrId: string, version: string): Promise<Release> {
  const service = await getService(db, tenantId, serviceNameOrId);
  const row = await db.selectFrom("releases").selectAll().where("service_id", "=", service.id).where("version", "=", version).executeTakeFirst();
  if (!row) throw notFound("release", `${service.name}@${version}`);
  return toRelease(row, service.name);
}
