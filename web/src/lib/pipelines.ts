// The pipeline API as the dashboard reads it: runs, a run's jobs and tests, a job's log pages,
// a service's test statistics and quarantine. Types are the server's contracts (erased at build).
import type { z } from "zod";
import type { LogLine, LogPage, Quarantine, Run, RunJob, RunList, StepStatus, TestResultView, TestStats } from "../../../src/contracts/pipelines.ts";
import { getJson, sendJson, type Service } from "./api.ts";

export type { LogLine, Run, RunJob, StepStatus, TestStats };
export type RunSummary = z.infer<typeof RunList>["items"][number];
export type RunState = Run["state"];
export type JobState = RunJob["state"];
export type StepState = StepStatus["state"];
export type TestResult = z.infer<typeof TestResultView>;
export type TestOutcome = TestResult["outcome"];
export type QuarantineEntry = z.infer<typeof Quarantine>;
export type LogPageView = z.infer<typeof LogPage>;

export { isTerminalRun } from "../../../src/core/pipeline/run.ts";
export { isTerminalJobState } from "../../../src/core/pipeline/dag.ts";

const segment = encodeURIComponent;

export async function loadServices(token: string, signal: AbortSignal): Promise<Service[]> {
  return (await getJson<{ items: Service[] }>(token, "/services", signal)).items;
}

/** The newest runs of one service, or of all of them. */
export async function loadRuns(token: string, service: string | null, signal: AbortSignal): Promise<RunSummary[]> {
  const path = service === null ? "/runs?limit=50" : `/services/${segment(service)}/runs?limit=50`;
  return (await getJson<{ items: RunSummary[] }>(token, path, signal)).items;
}

export const loadRun = (token: string, id: string, signal: AbortSignal): Promise<Run> => getJson<Run>(token, `/runs/${segment(id)}`, signal);

export async function loadRunTests(token: string, id: string, signal: AbortSignal): Promise<TestResult[]> {
  return (await getJson<{ items: TestResult[] }>(token, `/runs/${segment(id)}/tests`, signal)).items;
}

/** One page of a job's log after line `after`; with `waitMs`, the server holds the request until there is more. */
export function loadLogPage(token: string, run: string, job: string, options: { after: number; limit: number; waitMs: number }, signal: AbortSignal): Promise<LogPageView> {
  const query = `after=${options.after}&limit=${options.limit}&wait_ms=${options.waitMs}`;
  return getJson<LogPageView>(token, `/runs/${segment(run)}/jobs/${segment(job)}/logs?${query}`, signal);
}

export const startRun = (token: string, service: string, branch: string | null): Promise<Run> =>
  sendJson<Run>(token, "POST", `/services/${segment(service)}/runs`, branch ? { branch } : {});

export const cancelRun = (token: string, id: string): Promise<Run> => sendJson<Run>(token, "POST", `/runs/${segment(id)}/cancel`);

export interface TestsOverview {
  slowest: TestStats[];
  flakiest: TestStats[];
  failing: TestStats[];
  quarantine: QuarantineEntry[];
}

export async function loadTestsOverview(token: string, service: string, signal: AbortSignal): Promise<TestsOverview> {
  const stats = async (sort: string) => (await getJson<{ items: TestStats[] }>(token, `/services/${segment(service)}/tests?sort=${sort}&limit=20`, signal)).items;
  const [slowest, flakiest, failing, quarantine] = await Promise.all([
    stats("slowest"),
    stats("flakiest"),
    stats("failing"),
    getJson<{ items: QuarantineEntry[] }>(token, `/services/${segment(service)}/quarantine`, signal),
  ]);
  return { slowest, flakiest: flakiest.filter((t) => t.flakes > 0), failing: failing.filter((t) => t.failures > 0), quarantine: quarantine.items };
}

export const quarantineTest = (token: string, service: string, testId: string, reason: string): Promise<null> =>
  sendJson<null>(token, "PUT", `/services/${segment(service)}/quarantine/${segment(testId)}`, { reason });

export const releaseTest = (token: string, service: string, testId: string): Promise<null> => sendJson<null>(token, "DELETE", `/services/${segment(service)}/quarantine/${segment(testId)}`);
