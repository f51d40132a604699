// `slipway webhook-secret SERVICE`: a new secret for the service's push webhooks (the old one
// stops working), shown only this once, with the URL to give each kind of git host.
import type { Command } from "commander";
import { apiCommand, clientFor } from "./client.ts";
import { emit } from "./output.ts";

const PROVIDERS = [
  { id: "github", name: "GitHub", how: "content type application/json, the secret as the webhook's secret" },
  { id: "gitlab", name: "GitLab", how: "the secret as the secret token" },
  { id: "gitea", name: "Gitea, Forgejo", how: "content type application/json, the secret as the webhook's secret" },
  { id: "generic", name: "other", how: "for a script or a post-receive hook: X-Slipway-Signature: sha256=<hex HMAC-SHA256 of the body> (docs/triggers.md)" },
] as const;

export function registerWebhookCommand(program: Command): void {
  apiCommand(program, "webhook-secret")
    .description("create (or replace) the secret a service's push webhooks are signed with; prints it once, with the URL for each git host")
    .argument("<service>", "name or id")
    .action(async (service: string, _options: unknown, command: Command) => {
      const client = await clientFor(command);
      const created = await client.createWebhookSecret(service);
      const urls = Object.fromEntries(PROVIDERS.map((p) => [p.id, client.server + created.url_path.replace("{provider}", p.id)]));
      emit(command, { ...created, urls }, (c) => {
        const width = Math.max(...PROVIDERS.map((p) => p.name.length));
        return [
          `New webhook secret of ${service}, shown only this once (the previous one no longer works):`,
          "",
          `  ${c.secret}`,
          "",
          "Point the repository's push webhook at (POST):",
          ...PROVIDERS.map((p) => `  ${p.name.padEnd(width)}  ${c.urls[p.id]}\n  ${"".padEnd(width)}  ${p.how}`),
          "",
          `The server must be reachable from the git host at ${client.server}; behind a proxy, use its address instead.`,
        ].join("\n");
      });
    });
}
