// `slipway variable`: a service's pipeline variables, given to every step of every job of its
// runs. A secret variable's value is never shown again once set, and is masked in job logs.
import type { Command } from "commander";
import type { z } from "zod";
import type { Variable } from "../contracts/pipelines.ts";
import { apiCommand, clientFor } from "./client.ts";
import { emit, emitList, shortTime, type Column } from "./output.ts";

type VariableView = z.infer<typeof Variable>;

const VARIABLE_COLUMNS: Column<VariableView>[] = [
  { header: "NAME", value: (v) => v.name },
  { header: "UPDATED", value: (v) => shortTime(v.updated_at) },
  { header: "VALUE", value: (v) => (v.secret ? "(secret)" : (v.value ?? "")) },
];

/** All of stdin as text, without the one line break `echo` or a file ends with. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

export function registerVariableCommands(program: Command): void {
  const variable = program.command("variable").description("a service's pipeline variables (secret ones are masked in logs and never shown again)");

  apiCommand(variable, "set")
    .description("set a variable for every job of the service's pipeline runs")
    .argument("<service>", "name or id")
    .argument("<name>", "letters, digits and _, not starting with a digit")
    .argument("<value>", "the value, or - to read it from stdin (keeps a secret out of the shell's history and `ps`)")
    .option("--secret", "a secret: masked in job logs and never shown again")
    .action(async (service: string, name: string, value: string, options: { secret?: boolean }, command: Command) => {
      const text = value === "-" ? await readStdin() : value;
      const set = await (await clientFor(command)).setVariable(service, name, text, options.secret === true);
      emit(command, set, (v) => `Set ${v.name} for the pipeline of ${service}${v.secret ? " (secret: masked in logs, never shown again)" : ""}.`);
    });

  apiCommand(variable, "list")
    .description("a service's pipeline variables, with the values of those that are not secret")
    .argument("<service>", "name or id")
    .action(async (service: string, _options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listVariables(service), VARIABLE_COLUMNS, `${service} has no pipeline variables.`);
    });

  apiCommand(variable, "unset")
    .description("remove a pipeline variable")
    .argument("<service>", "name or id")
    .argument("<name>", "the variable")
    .action(async (service: string, name: string, _options: unknown, command: Command) => {
      await (await clientFor(command)).unsetVariable(service, name);
      emit(command, { name, removed: true }, () => `Removed ${name} from the pipeline variables of ${service}.`);
    });
}
