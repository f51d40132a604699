// `slipway tenant`: create a tenant (system admins only; you become its admin and get a token
// for it, shown once) and list the tenants you belong to.
import type { Command } from "commander";
import type { Tenant } from "../contracts/tenancy.ts";
import { apiCommand, clientFor } from "./client.ts";
import { emit, emitList, shortTime, type Column } from "./output.ts";

const TENANT_COLUMNS: Column<Tenant>[] = [
  { header: "NAME", value: (t) => t.name },
  { header: "ID", value: (t) => t.id },
  { header: "CREATED", value: (t) => shortTime(t.created_at) },
];

export function registerTenantCommands(program: Command): void {
  const tenant = program.command("tenant").description("tenants (teams): each owns its services, hosts, members and tokens");

  apiCommand(tenant, "create")
    .description("create a tenant with you as its admin; prints your token for it, shown only this once")
    .argument("<name>", "lower-case letters, digits and dashes")
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await clientFor(command);
      const created = await client.createTenant(name);
      emit(command, created, ({ tenant: t, token }) =>
        [
          `Created tenant '${t.name}' (${t.id}); you are its admin.`,
          `Your token for it is shown only this once:`,
          ``,
          `  ${token.token}`,
          ``,
          `Use it with --token, or:  slipway login --server ${client.server} --token ${token.token}`,
        ].join("\n"),
      );
    });

  apiCommand(tenant, "list")
    .description("list the tenants you are a member of (all of them for a system admin)")
    .action(async (_options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listTenants(), TENANT_COLUMNS, "No tenants.");
    });
}
