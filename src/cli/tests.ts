// `slipway tests`: a service's tests as their history shows them (slowest, flakiest, most
// failing), and the quarantine: tests whose failures no longer fail a run, though they still run
// and are still reported.
import type { Command } from "commander";
import type { z } from "zod";
import type { Quarantine, TestStats } from "../contracts/pipelines.ts";
import { invalidInput } from "../core/errors.ts";
import { apiCommand, clientFor } from "./client.ts";
import { ago, emit, emitList, shortTime, type Column } from "./output.ts";
import { parseLimit } from "./pipeline-runs.ts";

const SORTS = ["slowest", "flakiest", "failing"] as const;
type Sort = (typeof SORTS)[number];
type QuarantineEntry = z.infer<typeof Quarantine>;

/** `340 ms`, `1.2 s`, `75 s`. */
const testTime = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

// The test's id last: it is the longest cell, and the last one is not padded.
const statsColumns = (now: number): Column<TestStats>[] => [
  { header: "MEAN", value: (t) => testTime(t.mean_ms) },
  { header: "LAST", value: (t) => testTime(t.last_ms) },
  { header: "RUNS", value: (t) => String(t.runs) },
  { header: "FAILED", value: (t) => String(t.failures) },
  { header: "FLAKY", value: (t) => String(t.flakes) },
  { header: "FLAKE RATE", value: (t) => `${Math.round(t.flake_rate * 100)}%` },
  { header: "QUARANTINED", value: (t) => (t.quarantined ? "yes" : "-") },
  { header: "LAST RUN", value: (t) => ago(t.last_run_at, now) },
  { header: "TEST", value: (t) => t.test_id },
];

const QUARANTINE_COLUMNS: Column<QuarantineEntry>[] = [
  { header: "SINCE", value: (q) => shortTime(q.created_at) },
  { header: "BY", value: (q) => (q.automatic ? "slipway (automatic)" : q.created_by) },
  { header: "REASON", value: (q) => q.reason },
  { header: "TEST", value: (q) => q.test_id },
];

function parseSort(text: string): Sort {
  const sort = SORTS.find((s) => s === text);
  if (!sort) throw invalidInput(`unknown --sort '${text}'`, [{ field: "--sort", message: SORTS.join(", ") }]);
  return sort;
}

export function registerTestsCommands(program: Command): void {
  const tests = apiCommand(program, "tests")
    .description("a service's tests by their history: slowest, flakiest or most often failing; and the quarantine")
    .argument("<service>", "name or id")
    .option("--sort <order>", "slowest (mean time), flakiest (flake rate) or failing (failures)", "slowest")
    .option("--limit <n>", "how many, at most 500", "50")
    .action(async (service: string, options: { sort: string; limit: string }, command: Command) => {
      const sort = parseSort(options.sort);
      const stats = await (await clientFor(command)).testStats(service, sort, parseLimit(options.limit, 500));
      emitList(command, stats, statsColumns(Date.now()), `No test results of ${service} yet.`);
    });

  apiCommand(tests, "quarantine")
    .description("quarantine a test: it still runs and is reported, but its failure no longer fails a run")
    .argument("<service>", "name or id")
    .argument("<test-id>", "the test's id, as `slipway tests SERVICE` shows it")
    .option("--reason <text>", "why (shown in the quarantine list)")
    .action(async (service: string, testId: string, options: { reason?: string }, command: Command) => {
      const client = await clientFor(command);
      await client.quarantineTest(service, testId, options.reason);
      const entry = (await client.listQuarantine(service)).find((q) => q.test_id === testId);
      emit(command, entry ?? { test_id: testId }, () => `Quarantined ${testId} in ${service}: its failures no longer fail a run; it still runs and is reported.`);
    });

  apiCommand(tests, "release")
    .description("take a test out of quarantine: its failures fail runs again")
    .argument("<service>", "name or id")
    .argument("<test-id>", "the test's id")
    .action(async (service: string, testId: string, _options: unknown, command: Command) => {
      await (await clientFor(command)).releaseTest(service, testId);
      emit(command, { test_id: testId, quarantined: false }, () => `Released ${testId} of ${service} from quarantine: its failures fail runs again.`);
    });

  apiCommand(tests, "quarantined")
    .description("the tests of a service in quarantine: since when, by whom and why")
    .argument("<service>", "name or id")
    .action(async (service: string, _options: unknown, command: Command) => {
      emitList(command, await (await clientFor(command)).listQuarantine(service), QUARANTINE_COLUMNS, `No tests of ${service} are in quarantine.`);
    });
}
