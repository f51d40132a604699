// Runs a commander program, printing failures as one clear line (or JSON with --json) and
// exiting non-zero, never with a stack trace for an error the user can act on.
import type { Command } from "commander";
import { CommanderError } from "commander";
import { SlipwayError } from "../core/errors.ts";

export async function runCli(program: Command, argv: string[]): Promise<void> {
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const json = argv.includes("--json");
    if (error instanceof SlipwayError) {
      if (json) process.stderr.write(JSON.stringify({ error: error.toJSON() }) + "\n");
      else {
        process.stderr.write(`error: ${error.message}\n`);
        // Details the message already spells out are not printed twice.
        for (const detail of error.details) {
          const line = `${detail.field ? `${detail.field}: ` : ""}${detail.message}`;
          if (!error.message.includes(line)) process.stderr.write(`  ${line}\n`);
        }
      }
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
