// `slipway service`: register a service (a git repository and its environments in order) and
// look at the ones registered.
import type { Command } from "commander";
import type { EnvironmentInput, Service } from "../contracts/services.ts";
import { parseSelector } from "../core/hosts/selector.ts";
import { apiCommand, clientFor } from "./client.ts";
import { collect, emit, emitList, formatLabels, renderTable, shortTime, type Column } from "./output.ts";

/** `production:role=web,region=eu` -> an environment named production selecting those labels. */
export function parseEnvironment(text: string): EnvironmentInput {
  const colon = text.indexOf(":");
  if (colon < 0) return { name: text.trim(), selector: {} };
  return { name: text.slice(0, colon).trim(), selector: parseSelector(text.slice(colon + 1), "--env") };
}

const pipelineOf = (service: Service): string => service.environments.map((e) => e.name).join(" -> ") || "-";

const SERVICE_COLUMNS: Column<Service>[] = [
  { header: "NAME", value: (s) => s.name },
  { header: "REPOSITORY", value: (s) => s.repository_url },
  { header: "ENVIRONMENTS", value: pipelineOf },
  { header: "UPDATED", value: (s) => shortTime(s.updated_at) },
];

const ENVIRONMENT_COLUMNS: Column<Service["environments"][number]>[] = [
  { header: "ENVIRONMENT", value: (e) => e.name },
  { header: "HOSTS", value: (e) => formatLabels(e.selector) },
  { header: "PRODUCTION", value: (e) => (e.production ? "yes" : "no") },
];

function describeService(s: Service): string {
  const lines = [`Service:     ${s.name} (${s.id})`, `Repository:  ${s.repository_url}`, `Revision:    ${s.revision}`, `Created:     ${shortTime(s.created_at)}`, `Updated:     ${shortTime(s.updated_at)}`, ""];
  lines.push(s.environments.length === 0 ? "No environments." : renderTable(s.environments, ENVIRONMENT_COLUMNS));
  return lines.join("\n");
}

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("services: a git repository and its environments in order");

  apiCommand(service, "create")
    .description("register a service")
    .argument("<name>", "lower-case letters, digits and dashes")
    .requiredOption("--repo <url>", "its git repository (https://, ssh://, git@host:path, file:// or an absolute path)")
    .option("--env <name[:k=v,...]>", "an environment, repeatable, in promotion order; after ':' the labels of its hosts", collect)
    .action(async (name: string, options: { repo: string; env?: string[] }, command: Command) => {
      const environments = (options.env ?? []).map(parseEnvironment);
      const created = await (await clientFor(command)).createService({ name, repository_url: options.repo, environments });
      emit(command, created, (s) => `Created service '${s.name}' (${s.id}): ${pipelineOf(s)}.`);
    });

  apiCommand(service, "list")
    .description("list the tenant's services")
    .action(async (_options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listServices(), SERVICE_COLUMNS, "No services.");
    });

  apiCommand(service, "show")
    .description("show a service and its environments")
    .argument("<service>", "name or id")
    .action(async (name: string, _options: unknown, command: Command) => {
      emit(command, await (await clientFor(command)).getService(name), describeService);
    });
}
