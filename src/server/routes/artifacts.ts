// Artifacts: streamed up as application/octet-stream (never held whole in memory), stored by
// sha256, and streamed down with HTTP Range support so an interrupted download can resume.
import type { Readable } from "node:stream";
import { z } from "zod";
import { SlipwayError, invalidInput } from "../../core/errors.ts";
import { Artifact } from "../../contracts/releases.ts";
import { Sha256 } from "../../contracts/common.ts";
import { getArtifact, recordArtifact } from "../../store/releases.ts";
import type { AppDeps, TypedApp } from "../app.ts";
import { authorize } from "../auth.ts";
import { errorResponses } from "./responses.ts";

const UploadHeaders = z.object({ "x-slipway-sha256": Sha256.optional().describe("the sha256 the body must have; refused if it differs") });

/** Parses a single `bytes=start-end` range; undefined means the whole blob. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) throw new SlipwayError("invalid_input", `unsupported Range '${header}'`);
  const [start, end] =
    match[1] === "" ? [Math.max(0, size - Number(match[2])), size - 1] : [Number(match[1]), match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1)];
  if (start > end || start >= size) throw Object.assign(new SlipwayError("invalid_input", `range ${header} is outside the ${size} bytes`), { rangeNotSatisfiable: true });
  return { start, end };
}

export function artifactRoutes(app: TypedApp, { store: { db }, blobs, clock }: AppDeps): void {
  const tags = ["artifacts"];
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));

  app.put(
    "/artifacts",
    { schema: { tags, headers: UploadHeaders, response: { 201: Artifact, 413: errorResponses[400], ...errorResponses } } },
    async (request, reply) => {
      const { actor } = authorize(request, "artifact:write", clock());
      if (request.headers["content-type"] !== "application/octet-stream") {
        throw invalidInput("upload the artifact as Content-Type: application/octet-stream", [{ field: "header.content-type", message: "must be application/octet-stream" }]);
      }
      const declared = Number(request.headers["content-length"] ?? 0);
      if (declared > blobs.maxBytes) throw new SlipwayError("payload_too_large", `artifact of ${declared} bytes is larger than the limit of ${blobs.maxBytes}`);
      const blob = await blobs.put(request.body as Readable, request.headers["x-slipway-sha256"]);
      return reply.status(201).send(await recordArtifact(db, actor, blob));
    },
  );

  app.get("/artifacts/:sha256", { schema: { tags, params: z.object({ sha256: Sha256 }) } }, async (request, reply) => {
    const { auth } = authorize(request, "artifact:read", clock());
    const artifact = await getArtifact(db, auth.tenantId, request.params.sha256);
    let range: { start: number; end: number } | undefined;
    try {
      range = parseRange(request.headers.range, artifact.size);
    } catch (error) {
      if ((error as { rangeNotSatisfiable?: boolean }).rangeNotSatisfiable) {
        return reply.status(416).header("content-range", `bytes */${artifact.size}`).send({ error: { code: "invalid_input", message: (error as Error).message, details: [] } });
      }
      throw error;
    }
    reply.header("accept-ranges", "bytes").header("etag", `"${artifact.sha256}"`).header("x-slipway-sha256", artifact.sha256).type("application/octet-stream");
    if (range) {
      reply.status(206).header("content-range", `bytes ${range.start}-${range.end}/${artifact.size}`).header("content-length", range.end - range.start + 1);
    } else {
      reply.header("content-length", artifact.size);
    }
    return reply.send(blobs.read(artifact.sha256, range));
  });
}
