// `slipway up`: the embedded mode in one command — the server on SQLite in --data-dir and a few
// real local hosts (`slipway agent` processes), optionally with the demo deployed (src/up/).
import type { Command } from "commander";
import { z } from "zod";
import { invalidInput } from "../core/errors.ts";
import { ServerConfig } from "../server/config.ts";
import { runUp } from "../up/main.ts";

const Flags = z.object({
  dataDir: z.string().min(1),
  hosts: z.coerce.number().int().min(1, "at least 1").max(50, "at most 50"),
  port: z.coerce.number().int().min(0).max(65535),
  demo: z.boolean().default(false),
  demoPort: z.coerce.number().int().min(1).max(65535),
  logLevel: ServerConfig.shape.logLevel,
  json: z.boolean().default(false),
});

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("run Slipway on this machine: the server (SQLite in --data-dir) and local hosts; --demo deploys a demo service")
    .option("--data-dir <dir>", "where the database, artifacts, hosts and logs live", ".slipway")
    .option("--hosts <n>", "how many local hosts (slipway agent processes) to run", "6")
    .option("--port <port>", "the server's port on 127.0.0.1 (0: any free port)", "7300")
    .option("--demo", "also register, package and deploy the demo service (examples/demo): 1.0.0 then 2.0.0, to staging then production")
    .option("--demo-port <port>", "the port the demo service listens on, on each host's address", "7310")
    .option("--log-level <level>", "the server's log level (logs go to <data-dir>/logs/)", "info")
    .option("--json", "print one JSON line with the URL, the admin token and the hosts once ready (and one when the demo is done)")
    .action(async (raw: Record<string, unknown>) => {
      const parsed = Flags.safeParse(raw);
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ field: `--${String(i.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, message: i.message }));
        throw invalidInput(`invalid options: ${details.map((d) => `${d.field}: ${d.message}`).join("; ")}`, details);
      }
      await runUp(parsed.data);
    });
}
