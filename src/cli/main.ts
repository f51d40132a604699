#!/usr/bin/env node
// The `slipway` command. Each command group lives in its own file and is thin: it parses its
// arguments and calls the API client, or starts a process.
import { Command } from "commander";
import { registerAgentCommand } from "./agent.ts";
import { registerDeployCommands } from "./deploy.ts";
import { registerHostsCommand } from "./hosts.ts";
import { registerLoginCommands } from "./login.ts";
import { registerPipelineCommands } from "./pipeline.ts";
import { registerReleaseCommands } from "./release.ts";
import { registerServerCommand } from "./server.ts";
import { registerServiceCommands } from "./service.ts";
import { registerStatusCommand } from "./status.ts";
import { registerTenantCommands } from "./tenant.ts";
import { registerTestsCommands } from "./tests.ts";
import { registerTokenCommands } from "./token.ts";
import { registerUpCommand } from "./up.ts";
import { registerUserCommands } from "./user.ts";
import { registerVariableCommands } from "./variable.ts";
import { registerWebhookCommand } from "./webhook.ts";
import { runCli } from "./run.ts";

const program = new Command()
  .name("slipway")
  .description("Self-hosted continuous deployment: from a git push to a healthy release on your servers.")
  .version("0.1.0")
  // The program's own options (--version, --help) only before a subcommand, so that
  // `slipway release create web --version 1.2.0` reaches the subcommand.
  .enablePositionalOptions()
  .showHelpAfterError();

registerUpCommand(program);
registerServerCommand(program);
registerLoginCommands(program);
registerTenantCommands(program);
registerUserCommands(program);
registerTokenCommands(program);
registerServiceCommands(program);
registerReleaseCommands(program);
registerHostsCommand(program);
registerAgentCommand(program);
registerDeployCommands(program);
registerStatusCommand(program);
registerPipelineCommands(program);
registerTestsCommands(program);
registerVariableCommands(program);
registerWebhookCommand(program);

await runCli(program, process.argv);
