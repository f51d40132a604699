// Releases of a service: immutable, created from an uploaded artifact.
import { z } from "zod";
import { ServiceParams } from "../../contracts/services.ts";
import { Release, ReleaseCreate, ReleaseParams } from "../../contracts/releases.ts";
import { manifestOf } from "../../artifacts/manifest.ts";
import { createRelease, getRelease, hasArtifact, listReleases } from "../../store/releases.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses, listOf } from "./responses.ts";

export function releaseRoutes(app: TypedApp, { store: { db }, blobs, clock }: AppDeps): void {
  const tags = ["releases"];
  app.post("/services/:service/releases", { schema: { tags, params: ServiceParams, body: ReleaseCreate, response: { 201: Release, ...errorResponses } } }, async (request, reply) => {
    const { actor } = authorize(request, "release:create", clock());
    // Only an artifact this tenant uploaded is opened; otherwise the store refuses the release.
    const owned = await hasArtifact(db, actor.tenantId, request.body.artifact_sha256);
    const manifest = owned ? await manifestOf(blobs, request.body.artifact_sha256) : null;
    return reply.status(201).send(await createRelease(db, actor, request.params.service, request.body, manifest));
  });

  app.get(
    "/services/:service/releases",
    { schema: { tags, params: ServiceParams, querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }), response: { 200: listOf(Release), ...errorResponses } } },
    async (request) => {
      const { auth } = authorize(request, "read", clock());
      return { items: await listReleases(db, auth.tenantId, request.params.service, request.query.limit) };
    },
  );

  app.get("/services/:service/releases/:version", { schema: { tags, params: ReleaseParams, response: { 200: Release, ...errorResponses } } }, async (request) => {
    const { auth } = authorize(request, "read", clock());
    return getRelease(db, auth.tenantId, request.params.service, request.params.version);
  });
}
