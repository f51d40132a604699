// `slipway hosts`: the tenant's hosts (machines running `slipway agent`), optionally only those
// whose labels match a selector.
import type { Command } from "commander";
import type { Host } from "../contracts/hosts.ts";
import { apiCommand, clientFor } from "./client.ts";
import { ago, emitList, formatLabels, type Column } from "./output.ts";

const hostColumns = (now: number): Column<Host>[] => [
  { header: "NAME", value: (h) => h.name },
  { header: "ADDRESS", value: (h) => h.address },
  { header: "LABELS", value: (h) => formatLabels(h.labels) },
  { header: "LAST HEARTBEAT", value: (h) => ago(h.last_heartbeat_at, now) },
];

export function registerHostsCommand(program: Command): void {
  apiCommand(program, "hosts")
    .description("list the hosts, with their labels and when each was last heard from")
    .option("--selector <k=v,...>", "only hosts with all of these labels, e.g. role=web,region=eu")
    .action(async (options: { selector?: string }, command: Command) => {
      const hosts = await (await clientFor(command)).listHosts(options.selector);
      emitList(command, hosts, hostColumns(Date.now()), options.selector ? `No hosts match ${options.selector}.` : "No hosts registered yet.");
    });
}
