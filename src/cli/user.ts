// `slipway user`: members of the current tenant and their roles. A user is named by name or id.
import type { Command } from "commander";
import { RoleName, type User } from "../contracts/tenancy.ts";
import { invalidInput, notFound } from "../core/errors.ts";
import { apiCommand, clientFor, type ApiClient } from "./client.ts";
import { collect, emit, emitList, shortTime, type Column } from "./output.ts";

const ROLE_HELP = `a role in this tenant, repeatable: ${RoleName.options.join(", ")}`;

const USER_COLUMNS: Column<User>[] = [
  { header: "NAME", value: (u) => u.name },
  { header: "ID", value: (u) => u.id },
  { header: "ROLES", value: (u) => u.roles.join(",") + (u.system_admin ? " (system admin)" : "") },
  { header: "EMAIL", value: (u) => u.email ?? "-" },
  { header: "CREATED", value: (u) => shortTime(u.created_at) },
];

function parseRoles(values: readonly string[]) {
  return values.map((value) => {
    const role = RoleName.safeParse(value);
    if (!role.success) throw invalidInput(`unknown role '${value}'`, [{ field: "--role", message: `must be one of ${RoleName.options.join(", ")}` }]);
    return role.data;
  });
}

/** The id of a member named by id or name (the API addresses members by id). */
export async function resolveUserId(client: ApiClient, nameOrId: string): Promise<string> {
  const user = (await client.listUsers()).find((u) => u.id === nameOrId || u.name === nameOrId);
  if (!user) throw notFound("user", nameOrId);
  return user.id;
}

const describeUser = (verb: string) => (u: User) => `${verb} user '${u.name}' (${u.id}) with roles ${u.roles.join(", ")}.`;

export function registerUserCommands(program: Command): void {
  const user = program.command("user").description("members of the current tenant and their roles");

  apiCommand(user, "create")
    .description("add a user to the tenant (creating the user if the name is new)")
    .argument("<name>", "lower-case letters, digits and dashes")
    .requiredOption("--role <role>", ROLE_HELP, collect)
    .option("--email <address>", "the user's email address")
    .action(async (name: string, options: { role: string[]; email?: string }, command: Command) => {
      const created = await (await clientFor(command)).createUser({ name, email: options.email, roles: parseRoles(options.role) });
      emit(command, created, describeUser("Added"));
    });

  apiCommand(user, "list")
    .description("list the tenant's members")
    .action(async (_options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listUsers(), USER_COLUMNS, "No users.");
    });

  apiCommand(user, "roles")
    .description("replace a member's roles with the ones given")
    .argument("<user>", "name or id")
    .requiredOption("--role <role>", ROLE_HELP, collect)
    .action(async (nameOrId: string, options: { role: string[] }, command: Command) => {
      const roles = parseRoles(options.role);
      const client = await clientFor(command);
      emit(command, await client.setUserRoles(await resolveUserId(client, nameOrId), roles), describeUser("Updated"));
    });

  apiCommand(user, "remove")
    .description("remove a member from the tenant and revoke their tokens for it")
    .argument("<user>", "name or id")
    .action(async (nameOrId: string, _options: unknown, command: Command) => {
      const client = await clientFor(command);
      const id = await resolveUserId(client, nameOrId);
      await client.removeUser(id);
      emit(command, { removed: id }, () => `Removed user '${nameOrId}' (${id}) from the tenant; their tokens for it are revoked.`);
    });
}
