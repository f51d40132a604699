// `slipway token`: API tokens. A token's secret is shown once, when it is created.
import type { Command } from "commander";
import type { Token } from "../contracts/tenancy.ts";
import { invalidInput } from "../core/errors.ts";
import { apiCommand, clientFor } from "./client.ts";
import { emit, emitList, shortTime, type Column } from "./output.ts";
import { resolveUserId } from "./user.ts";

const state = (t: Token, now = Date.now()): string => {
  if (t.revoked_at) return "revoked";
  if (t.expires_at && Date.parse(t.expires_at) <= now) return "expired";
  return "active";
};

const TOKEN_COLUMNS: Column<Token>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "NAME", value: (t) => t.name },
  { header: "KIND", value: (t) => t.kind },
  { header: "USER", value: (t) => t.user_id },
  { header: "PREFIX", value: (t) => `${t.prefix}…` },
  { header: "STATE", value: (t) => state(t) },
  { header: "EXPIRES", value: (t) => shortTime(t.expires_at) },
  { header: "LAST USED", value: (t) => shortTime(t.last_used_at) },
];

function parseDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1) throw invalidInput(`'${text}' is not a number of days`, [{ field: "--expires-in-days", message: "must be a whole number of days, 1 or more" }]);
  return days;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("API tokens for people and agents");

  apiCommand(token, "create")
    .description("create a token; its secret is printed only this once")
    .argument("<name>", "what the token is for, e.g. 'ci' or 'laptop'")
    .option("--agent", "an agent token, for `slipway agent` on a host (admins only)")
    .option("--user <user>", "create it for another member, by name or id (admins only)")
    .option("--expires-in-days <n>", "expire it after this many days (default: never)")
    .action(async (name: string, options: { agent?: boolean; user?: string; expiresInDays?: string }, command: Command) => {
      const expiresInDays = parseDays(options.expiresInDays);
      const client = await clientFor(command);
      const userId = options.user === undefined ? undefined : await resolveUserId(client, options.user);
      const created = await client.createToken({ name, kind: options.agent ? "agent" : "user", user_id: userId, expires_in_days: expiresInDays });
      emit(command, created, (t) =>
        [
          `Created ${t.kind} token '${t.name}' (${t.id})${t.expires_at ? `, expiring ${shortTime(t.expires_at)}` : ""}.`,
          `Its secret is shown only this once:`,
          ``,
          `  ${t.token}`,
        ].join("\n"),
      );
    });

  apiCommand(token, "list")
    .description("list your tokens (every token of the tenant for an admin)")
    .action(async (_options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listTokens(), TOKEN_COLUMNS, "No tokens.");
    });

  apiCommand(token, "revoke")
    .description("revoke a token: it is refused from now on")
    .argument("<id>", "the token's id (see `slipway token list`)")
    .action(async (id: string, _options: unknown, command: Command) => {
      const revoked = await (await clientFor(command)).revokeToken(id);
      emit(command, revoked, (t) => `Revoked token '${t.name}' (${t.id}).`);
    });
}
