// The slipway.yaml inside a release artifact: the one hosts run the release by.
import { parseManifest } from "../core/manifest/parse.ts";
import type { ServiceManifest } from "../core/manifest/schema.ts";
import type { BlobStore } from "./blob-store.ts";
import { readFileFromTarball } from "./tarball.ts";

/** The artifact's slipway.yaml, parsed and validated; a bad one is refused, naming the line. */
export async function manifestOf(blobs: BlobStore, sha256: string): Promise<ServiceManifest | null> {
  const text = await readFileFromTarball(blobs.pathOf(sha256), "slipway.yaml");
  return text === undefined ? null : parseManifest(text, "slipway.yaml (in the artifact)");
}
