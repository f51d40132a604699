#!/usr/bin/env node
// The `slipway` command. Each command group lives in its own file and is thin: it parses its
// arguments and calls the API client, or starts a process.
import { Command } from "commander";
import { registerServerCommand } from "./server.ts";
import { runCli } from "./run.ts";

const program = new Command()
  .name("slipway")
  .description("Self-hosted continuous deployment: from a git push to a healthy release on your servers.")
  .version("0.1.0")
  .showHelpAfterError();

registerServerCommand(program);

await runCli(program, process.argv);
