// `slipway login` checks a server URL and token with GET /whoami and saves them only if they
// work; `slipway whoami` says who the current token acts for.
import type { Command } from "commander";
import type { WhoAmI } from "../contracts/tenancy.ts";
import { invalidInput } from "../core/errors.ts";
import { ApiClient, apiCommand, clientFor } from "./client.ts";
import { explicitConnection, normalizeServerUrl, saveConnection, type ConnectionOptions } from "./config.ts";
import { emit } from "./output.ts";

const describeIdentity = (server: string, who: WhoAmI): string =>
  `${who.user.name} in tenant '${who.tenant.name}' on ${server} (roles: ${who.roles.join(", ") || "none"}${who.user.system_admin ? ", system admin" : ""}; token '${who.token.name}')`;

export function registerLoginCommands(program: Command): void {
  apiCommand(program, "login")
    .description("check a server URL and token (--server and --token, or SLIPWAY_SERVER and SLIPWAY_TOKEN), then save them for the next commands")
    .action(async (_options: unknown, command: Command) => {
      const given = explicitConnection(command.opts<ConnectionOptions>());
      if (!given.server || !given.token) {
        const missing = [!given.server && "--server", !given.token && "--token"].filter((flag) => flag !== false);
        throw invalidInput("login needs a server URL and a token: slipway login --server URL --token TOKEN", missing.map((field) => ({ field, message: "is required" })));
      }
      const connection = { server: normalizeServerUrl(given.server), token: given.token };
      const who = await new ApiClient(connection, { unauthenticatedHint: "nothing was saved" }).whoami();
      const path = await saveConnection(connection);
      emit(command, { server: connection.server, config: path, ...who }, () => `Logged in as ${describeIdentity(connection.server, who)}.\nSaved to ${path}.`);
    });

  apiCommand(program, "whoami")
    .description("show the user, tenant and roles the current token acts for")
    .action(async (_options: unknown, command: Command) => {
      const client = await clientFor(command);
      const who = await client.whoami();
      emit(command, who, () => describeIdentity(client.server, who));
    });
}
