// `slipway up`: the embedded mode in one command — the server on SQLite in --data-dir, a few
// real local hosts and two runners (`slipway agent` processes), optionally with the demo pushed
// through its pipeline to production under traffic, a bad release included (src/up/).
import type { Command } from "commander";
import { z } from "zod";
import { invalidInput } from "../core/errors.ts";
import { Duration } from "../core/manifest/duration.ts";
import { ServerConfig } from "../server/config.ts";
import { runUp } from "../up/main.ts";

const Flags = z.object({
  dataDir: z.string().min(1),
  hosts: z.coerce.number().int().min(1, "at least 1").max(50, "at most 50"),
  runners: z.coerce.number().int().min(0, "at least 0").max(16, "at most 16"),
  pollInterval: Duration.pipe(z.number().min(100, "at least 100ms").max(3_600_000, "at most 1h")).optional(),
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
    .option("--runners <n>", "how many local runners (slipway agent --runner-only processes) run pipeline jobs", "2")
    .option("--poll-interval <duration>", "how often the server polls each service's repository for pushes (default 2s with --demo, else 60s)")
    .option("--port <port>", "the server's port on 127.0.0.1 (0: any free port)", "7300")
    .option("--demo", "also commit the demo service (examples/demo) to a git repository in --data-dir, three times, with traffic to every host: each push is built, tested, released and deployed to staging, then to production as a canary, which rolls the third, a bad release, back by itself")
    .option("--demo-port <port>", "the port the demo service listens on, on each host's address", "7310")
    .option("--log-level <level>", "the server's log level (logs go to <data-dir>/logs/)", "info")
    .option("--json", "print one JSON line with the URL, the admin token and the hosts once ready (and one when the demo is done)")
    .action(async (raw: Record<string, unknown>) => {
      const parsed = Flags.safeParse(raw);
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ field: `--${String(i.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, message: i.message }));
        throw invalidInput(`invalid options: ${details.map((d) => `${d.field}: ${d.message}`).join("; ")}`, details);
      }
      const { pollInterval, ...flags } = parsed.data;
      if (flags.demo && flags.runners === 0) throw invalidInput("--demo needs at least one runner for its pipeline", [{ field: "--runners", message: "at least 1 with --demo" }]);
      await runUp({ ...flags, pollIntervalMs: pollInterval ?? (flags.demo ? 2000 : 60_000) });
    });
}
