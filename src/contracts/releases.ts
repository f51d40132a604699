// Artifacts (content-addressed blobs) and releases (immutable, one per service and version).
import { z } from "zod";
import { Sha256, Timestamp } from "./common.ts";

export const Artifact = z.object({ sha256: Sha256, size: z.number().int(), created_at: Timestamp });
export type Artifact = z.infer<typeof Artifact>;

export const Version = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "versions are letters, digits and . _ + -");

export const Release = z.object({
  id: z.string(),
  service: z.string(),
  version: z.string(),
  git_sha: z.string().nullable(),
  artifact_sha256: Sha256,
  artifact_size: z.number().int(),
  created_by: z.string(),
  created_at: Timestamp,
  pipeline_run_id: z.string().nullable().describe("the pipeline run that built it, if one did"),
  author: z.string().nullable().describe("the author of the release's commit, when a pipeline built it"),
  manifest: z.unknown().nullable().describe("the slipway.yaml found at the root of a .tar.gz artifact, parsed; null when there is none"),
});
export type Release = z.infer<typeof Release>;

export const ReleaseCreate = z.strictObject({
  version: Version,
  artifact_sha256: Sha256,
  git_sha: z
    .string()
    .regex(/^[a-f0-9]{7,64}$/, "must be a hex git commit id")
    .optional(),
});
export type ReleaseCreate = z.infer<typeof ReleaseCreate>;

export const ReleaseParams = z.object({ service: z.string().min(1).max(200), version: z.string().min(1).max(128) });
