// `slipway release`: record an immutable release of a service from an artifact file (streamed
// up unless the server already has it) and list a service's releases.
import type { Command } from "commander";
import type { Release } from "../contracts/releases.ts";
import { apiCommand, clientFor } from "./client.ts";
import { emit, emitList, shortTime, type Column } from "./output.ts";

const RELEASE_COLUMNS: Column<Release>[] = [
  { header: "VERSION", value: (r) => r.version },
  { header: "GIT SHA", value: (r) => r.git_sha?.slice(0, 12) ?? "-" },
  { header: "ARTIFACT", value: (r) => r.artifact_sha256.slice(0, 12) },
  { header: "SIZE", value: (r) => String(r.artifact_size) },
  { header: "CREATED BY", value: (r) => r.created_by },
  { header: "CREATED", value: (r) => shortTime(r.created_at) },
];

export function registerReleaseCommands(program: Command): void {
  const release = program.command("release").description("immutable releases of a service, each from one artifact");

  apiCommand(release, "create")
    .description("upload an artifact (skipped if the server already has it) and record a release of it")
    .argument("<service>", "name or id")
    .requiredOption("--version <version>", "the release's version: letters, digits and . _ + -")
    .requiredOption("--artifact <file>", "the artifact file, e.g. a .tar.gz of the build")
    .option("--git-sha <sha>", "the commit it was built from")
    .action(async (service: string, options: { version: string; artifact: string; gitSha?: string }, command: Command) => {
      const client = await clientFor(command);
      const artifact = await client.ensureArtifact(options.artifact);
      const created = await client.createRelease(service, { version: options.version, artifact_sha256: artifact.sha256, ...(options.gitSha ? { git_sha: options.gitSha } : {}) });
      emit(command, created, (r) =>
        [
          artifact.uploaded ? `Uploaded artifact ${artifact.sha256} (${artifact.size} bytes).` : `Artifact ${artifact.sha256} is already on the server; not uploaded again.`,
          `Created release ${r.version} of ${r.service} (${r.id}).`,
        ].join("\n"),
      );
    });

  apiCommand(release, "list")
    .description("list a service's releases, newest first")
    .argument("<service>", "name or id")
    .action(async (service: string, _options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listReleases(service), RELEASE_COLUMNS, `No releases of ${service} yet.`);
    });
}
