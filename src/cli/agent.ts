// `slipway agent`: runs the host agent in the foreground until SIGTERM or SIGINT. It converges
// this machine to the desired state the server publishes for it (see docs/agent.md); with
// --runner it also claims and runs pipeline jobs, and with --runner-only it does only that
// (see docs/runners.md).
import { hostname } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { Labels } from "../contracts/common.ts";
import { SlipwayError, invalidInput, type ErrorCode } from "../core/errors.ts";
import { AgentHttpError } from "../agent/client.ts";
import { DataDirLockedError } from "../agent/state.ts";
import { createAgentLogger } from "../agent/logger.ts";
import { Agent } from "../agent/main.ts";
import { DEFAULT_RESTART_POLICY } from "../agent/restart-policy.ts";

interface AgentFlags {
  server?: string;
  token?: string;
  name?: string;
  labels?: string;
  address?: string;
  dataDir?: string;
  stopServicesOnExit?: boolean;
  logLevel?: string;
  restartDelayMs?: string;
  maxRestartDelayMs?: string;
  runner?: boolean;
  runnerOnly?: boolean;
  runnerSlots?: string;
  json?: boolean;
}

/** `role=web,region=eu` -> { role: "web", region: "eu" }, validated like the API validates labels. */
export function parseLabels(text: string | undefined): Record<string, string> {
  if (!text) return {};
  const pairs = text.split(",").map((pair) => pair.trim()).filter(Boolean).map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw invalidInput(`label '${pair}' is not k=v`, [{ field: "--labels", message: "use k=v,k=v" }]);
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  });
  const parsed = Labels.safeParse(Object.fromEntries(pairs));
  if (!parsed.success) throw invalidInput("invalid --labels", parsed.error.issues.map((i) => ({ field: `--labels.${i.path.join(".")}`, message: i.message })));
  return parsed.data;
}

/** What start() refused with, as one clear line (runCli prints a SlipwayError without a stack). */
function asCliError(error: unknown): unknown {
  if (error instanceof DataDirLockedError) return new SlipwayError("conflict", error.message, { cause: error });
  if (error instanceof AgentHttpError) {
    const codes: Record<number, ErrorCode> = { 400: "invalid_input", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict" };
    return new SlipwayError((error.status !== null && codes[error.status]) || "unavailable", error.message, { cause: error });
  }
  return error;
}

const Millis = z.coerce.number().int().min(1).max(3_600_000);
const Slots = z.coerce.number().int().min(1).max(64);

/** The runner part of the agent, from --runner, --runner-only and --runner-slots. */
function runnerOptions(flags: AgentFlags): { slots: number; only: boolean } | undefined {
  if (!flags.runner && !flags.runnerOnly) {
    if (flags.runnerSlots !== undefined) throw invalidInput("--runner-slots needs --runner or --runner-only", [{ field: "--runner-slots", message: "add --runner" }]);
    return undefined;
  }
  const slots = Slots.safeParse(flags.runnerSlots ?? 1);
  if (!slots.success) throw invalidInput("--runner-slots must be a whole number from 1 to 64", [{ field: "--runner-slots", message: "1 to 64" }]);
  return { slots: slots.data, only: flags.runnerOnly === true };
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the host agent: converge this machine to the releases the server wants on it, supervise them and report; with --runner, also run pipeline jobs")
    .option("--server <url>", "the Slipway server (env SLIPWAY_SERVER)")
    .option("--token <token>", "API token the agent authenticates with (env SLIPWAY_TOKEN, which keeps it out of `ps`)")
    .option("--name <name>", "this host's name (default: the machine's hostname)")
    .option("--labels <k=v,...>", "labels environments select hosts by, e.g. role=web,region=eu")
    .option("--address <ip>", "address services listen on and are health-checked at (default 127.0.0.1)")
    .option("--data-dir <dir>", "where releases, logs and the agent's state live (env SLIPWAY_AGENT_DATA_DIR)")
    .option("--stop-services-on-exit", "stop the services when the agent exits (by default they keep running and are adopted at the next start)")
    .option("--restart-delay-ms <ms>", `first delay before restarting a crashed service (default ${DEFAULT_RESTART_POLICY.initialDelayMs})`)
    .option("--max-restart-delay-ms <ms>", `longest delay between restarts (default ${DEFAULT_RESTART_POLICY.maxDelayMs})`)
    .option("--runner", "also run pipeline jobs whose runs_on this agent's labels match (see docs/runners.md)")
    .option("--runner-only", "run pipeline jobs only: this agent is not a deployment target")
    .option("--runner-slots <n>", "pipeline jobs run at the same time (default 1)")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (env SLIPWAY_LOG_LEVEL)")
    .option("--json", "print one JSON line {host_id, name, data_dir} on stdout once registered")
    .action(async (flags: AgentFlags) => {
      const env = process.env;
      const server = flags.server ?? env.SLIPWAY_SERVER;
      const token = flags.token ?? env.SLIPWAY_TOKEN;
      const dataDir = flags.dataDir ?? env.SLIPWAY_AGENT_DATA_DIR;
      const missing = [!server && "--server", !token && "--token", !dataDir && "--data-dir"].filter((f): f is string => Boolean(f));
      if (missing.length > 0 || !server || !token || !dataDir) throw invalidInput(`slipway agent needs ${missing.join(", ")}`, missing.map((field) => ({ field, message: "required" })));
      const initialDelayMs = flags.restartDelayMs ? Millis.parse(flags.restartDelayMs) : DEFAULT_RESTART_POLICY.initialDelayMs;
      const maxDelayMs = flags.maxRestartDelayMs ? Millis.parse(flags.maxRestartDelayMs) : Math.max(initialDelayMs, DEFAULT_RESTART_POLICY.maxDelayMs);
      const runner = runnerOptions(flags);
      const logger = createAgentLogger(flags.logLevel ?? env.SLIPWAY_LOG_LEVEL ?? "info");
      const agent = new Agent(
        {
          server,
          token,
          name: flags.name ?? hostname(),
          labels: parseLabels(flags.labels),
          address: flags.address ?? "127.0.0.1",
          dataDir,
          stopServicesOnExit: flags.stopServicesOnExit === true,
          runner,
        },
        { logger, restartPolicy: { ...DEFAULT_RESTART_POLICY, initialDelayMs, maxDelayMs } },
      );
      let stopping: Promise<void> | undefined;
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, "stopping");
        stopping ??= agent.stop().then(() => process.exit(0), (error: unknown) => {
          logger.error({ err: error }, "error while stopping");
          process.exit(1);
        });
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      let host_id: string;
      try {
        ({ host_id } = await agent.start());
      } catch (error) {
        // Refused at the first registration (bad token?) or the data dir is in use: release what
        // start() took, so that the process exits with the error.
        await agent.stop();
        throw asCliError(error);
      }
      if (flags.json) process.stdout.write(JSON.stringify({ host_id, name: flags.name ?? hostname(), data_dir: dataDir }) + "\n");
    });
}
