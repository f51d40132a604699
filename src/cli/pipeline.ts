// `slipway pipeline`: the command group for pipelines. Each subcommand registers itself on the
// one group created here.
import type { Command } from "commander";
import { registerPipelineLogsCommand } from "./pipeline-logs.ts";
import { registerPipelineRunCommands } from "./pipeline-runs.ts";
import { registerPipelineValidateCommand } from "./pipeline-validate.ts";

export function registerPipelineCommands(program: Command): Command {
  const pipeline = program.command("pipeline").description("pipelines: the jobs that build, test and release a service");
  registerPipelineValidateCommand(pipeline);
  registerPipelineRunCommands(pipeline);
  registerPipelineLogsCommand(pipeline);
  return pipeline;
}
