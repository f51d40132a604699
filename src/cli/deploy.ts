// `slipway deploy`, `slipway rollback` and `slipway deployment`: start a deployment (and, with
// --wait, watch it to the end and exit non-zero unless it succeeded), roll an environment back
// to its previous live release, and look at, resume, cancel or roll back deployments.
import type { Command } from "commander";
import { z } from "zod";
import { DeploymentAnalysis } from "../contracts/analysis.ts";
import { Deployment, DeploymentSummary, ServiceStatus, type DeploymentCreate } from "../contracts/deployments.ts";
import { SlipwayError, invalidInput } from "../core/errors.ts";
import { parseDuration } from "../core/manifest/duration.ts";
import { ApiClient, apiCommand } from "./client.ts";
import { describeAnalysis, describeStages } from "./deploy-analysis.ts";
import { resolveConnection, type Connection, type ConnectionOptions } from "./config.ts";
import { emit, emitList, shortTime, type Column } from "./output.ts";
import { describeTarget, eventLine, failureReason, followDeployment, hostLine, isFinal, ProgressView, stateLine, stateWord, withHostNames, type DeploymentSource } from "./progress.ts";

type RolloutInput = NonNullable<z.input<typeof DeploymentCreate>["rollout"]>;

/**
 * The deployment routes of the API, parsed by their contract schemas. (The shared ApiClient in
 * client.ts has no generic request method; these calls can move there.)
 */
/** The deployment routes, over the CLI's one API client. */
export class DeploymentApi implements DeploymentSource {
  readonly server: string;
  readonly #client: ApiClient;

  constructor(connection: Connection) {
    this.server = connection.server;
    this.#client = new ApiClient(connection, { unauthenticatedHint: "log in again with `slipway login --server URL --token TOKEN`" });
  }

  #request<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<z.output<S>> {
    return this.#client.request(schema, method, path, body);
  }

  create = (service: string, body: { version: string; environment: string; rollout?: RolloutInput }) => this.#request(Deployment, "POST", `/services/${encodeURIComponent(service)}/deployments`, body);
  get = (id: string) => this.#request(Deployment, "GET", `/deployments/${encodeURIComponent(id)}`);
  analysis = (id: string) => this.#request(DeploymentAnalysis, "GET", `/deployments/${encodeURIComponent(id)}/analysis`);
  list = (service: string, environment?: string, limit = 20) =>
    this.#request(z.object({ items: z.array(DeploymentSummary) }), "GET", `/services/${encodeURIComponent(service)}/deployments?${new URLSearchParams({ limit: String(limit), ...(environment ? { environment } : {}) }).toString()}`).then((r) => r.items);
  command = (id: string, command: "resume" | "cancel" | "rollback") => this.#request(Deployment, "POST", `/deployments/${encodeURIComponent(id)}/${command}`);
  rollbackEnvironment = (service: string, environment: string) => this.#request(Deployment, "POST", `/services/${encodeURIComponent(service)}/environments/${encodeURIComponent(environment)}/rollback`);
  status = (service: string) => this.#request(ServiceStatus, "GET", `/services/${encodeURIComponent(service)}/status`);

  /** The tenant's change announcements from the server-sent event stream, until it ends or `signal` aborts. */
  async changes(onChange: (change: { kind: string; id: string }) => void, signal: AbortSignal): Promise<void> {
    const response = await this.#client.send("GET", "/events", { signal });
    if (!response.ok || !response.body) throw new SlipwayError("unavailable", `the event stream answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        const blocks = buffer.split(/\r?\n\r?\n/);
        buffer = blocks.pop() ?? "";
        for (const block of blocks) {
          const lines = block.split(/\r?\n/);
          const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "message";
          const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          const change = z.object({ kind: z.string(), id: z.string() }).safeParse(data ? JSON.parse(data) : undefined);
          if (event === "change" && change.success) onChange(change.data);
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}

export async function deploymentApiFor(command: Command): Promise<DeploymentApi> {
  return new DeploymentApi(await resolveConnection(command.opts<ConnectionOptions>()));
}

const wantsJson = (command: Command) => command.opts<{ json?: boolean }>().json === true;

/**
 * Follows a deployment to its end, or to a pause (which waits for a person): progress on stdout
 * (none with --json, which prints the last version of the deployment), and an error naming the
 * reason unless it succeeded. Ctrl-C stops watching only.
 */
export async function waitForDeployment(command: Command, api: DeploymentApi, started: Deployment): Promise<void> {
  const json = wantsJson(command);
  const tty = process.stdout.isTTY === true;
  const view = json ? undefined : new ProgressView(process.stdout, { tty });
  const ticker = view && tty ? setInterval(() => view.tick(), 1000) : undefined;
  const onSigint = () => {
    process.stderr.write(`\nStopped watching; deployment ${started.id} goes on. Follow it again with: slipway deployment show ${started.id} --follow\n`);
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  let final: Deployment;
  try {
    final = await followDeployment(api, started.id, (d) => view?.update(d), { until: (d) => isFinal(d.state) || d.state === "paused" });
  } finally {
    clearInterval(ticker);
    process.off("SIGINT", onSigint);
  }
  view?.finish(final);
  if (json) process.stdout.write(JSON.stringify(final, null, 2) + "\n");
  if (final.state === "paused") {
    throw new SlipwayError("conflict", `deployment ${final.id} paused: ${failureReason(final)}; resume it with \`slipway deployment resume ${final.id}\` or undo it with \`slipway deployment rollback ${final.id}\``);
  }
  if (final.state !== "succeeded") throw new SlipwayError("conflict", `deployment ${final.id} ${stateWord(final.state)}: ${failureReason(final)}`);
  if (!json) process.stdout.write(`Deployment ${final.id} succeeded: ${final.service} ${final.release.version} is live in ${final.environment}.\n`);
}

const Count = /^(\d+|\d{1,3}%)$/;
function rolloutFrom(options: DeployFlags): RolloutInput {
  const rollout: RolloutInput = {};
  const count = (flag: string, text: string) => {
    if (!Count.test(text)) throw invalidInput(`${flag} '${text}' is not a count or a percentage`, [{ field: flag, message: "a number of hosts such as 2, or a percentage such as 25%" }]);
    return text.endsWith("%") ? text : Number(text);
  };
  const duration = (flag: string, text: string) => {
    const ms = parseDuration(text);
    if (ms === undefined) throw invalidInput(`${flag} '${text}' is not a duration`, [{ field: flag, message: "write e.g. 500ms, 10s, 5m" }]);
    return ms;
  };
  if (options.strategy !== undefined) {
    if (options.strategy !== "rolling" && options.strategy !== "all_at_once" && options.strategy !== "canary") throw invalidInput(`unknown strategy '${options.strategy}'`, [{ field: "--strategy", message: "rolling, all_at_once or canary" }]);
    rollout.strategy = options.strategy;
  }
  if (options.onFailure !== undefined) {
    if (options.onFailure !== "rollback" && options.onFailure !== "pause") throw invalidInput(`unknown --on-failure '${options.onFailure}'`, [{ field: "--on-failure", message: "rollback or pause" }]);
    rollout.on_failure = options.onFailure;
  }
  if (options.batchSize !== undefined) rollout.batch_size = count("--batch-size", options.batchSize);
  if (options.maxUnavailable !== undefined) rollout.max_unavailable = count("--max-unavailable", options.maxUnavailable);
  if (options.pauseBetweenBatches !== undefined) rollout.pause_between_batches = duration("--pause-between-batches", options.pauseBetweenBatches);
  if (options.healthTimeout !== undefined) rollout.health_timeout = duration("--health-timeout", options.healthTimeout);
  return rollout;
}

interface DeployFlags {
  env: string;
  wait?: boolean;
  strategy?: string;
  batchSize?: string;
  maxUnavailable?: string;
  pauseBetweenBatches?: string;
  onFailure?: string;
  healthTimeout?: string;
}

const SUMMARY_COLUMNS: Column<DeploymentSummary>[] = [
  { header: "ID", value: (d) => d.id },
  { header: "ENVIRONMENT", value: (d) => d.environment },
  { header: "VERSION", value: (d) => d.release.version },
  { header: "KIND", value: (d) => d.kind },
  { header: "STATE", value: (d) => stateWord(d.state) },
  { header: "BY", value: (d) => d.created_by },
  { header: "CREATED", value: (d) => shortTime(d.created_at) },
  { header: "TOOK", value: (d) => (d.finished_at && d.started_at ? `${Math.round((Date.parse(d.finished_at) - Date.parse(d.started_at)) / 1000)} s` : "-") },
  { header: "REASON", value: (d) => d.reason ?? "-" },
];

export function describeDeployment(d: Deployment, analysis?: DeploymentAnalysis): string {
  const seconds = d.finished_at && d.started_at ? ` (${Math.round((Date.parse(d.finished_at) - Date.parse(d.started_at)) / 1000)} s)` : "";
  const setting = (key: string): string => {
    const value = d.settings[key];
    return typeof value === "string" || typeof value === "number" ? String(value) : "-";
  };
  const lines = [
    `Deployment ${d.id}: ${describeTarget(d)}`,
    `State:      ${stateLine(d)}`,
    `Requested:  ${shortTime(d.created_at)} by ${d.created_by}`,
    `Started:    ${shortTime(d.started_at)}`,
    `Finished:   ${shortTime(d.finished_at)}${seconds}`,
    `Rollout:    ${setting("strategy")}, batches of ${setting("batch_size")} (max unavailable ${setting("max_unavailable")}), on failure ${setting("on_failure")}`,
  ];
  if (d.migration) lines.push(`Migration:  ${d.migration.status} on ${d.migration.host}${d.migration.reason ? `: ${d.migration.reason}` : ""}`);
  const stages = describeStages(d);
  if (stages.length) lines.push("", ...stages);
  const verdicts = analysis ? describeAnalysis(analysis) : [];
  if (verdicts.length) lines.push("", ...verdicts);
  const width = Math.max(0, ...d.hosts.map((h) => h.name.length));
  lines.push("", d.hosts.length ? ["Hosts:", ...d.hosts.map((h) => `  ${hostLine(d, h, width)}`)].join("\n") : "Hosts: none chosen yet.");
  lines.push("", d.events.length ? ["Events:", ...d.events.map((e) => `  ${eventLine(d, e)}`)].join("\n") : "Events: none yet.");
  return lines.join("\n");
}

export function registerDeployCommands(program: Command): void {
  apiCommand(program, "deploy")
    .description("deploy a release of a service to an environment (with --wait, watch it and fail unless it succeeds)")
    .argument("<service>", "name or id")
    .argument("<version>", "the release's version")
    .requiredOption("--env <environment>", "the environment to deploy to")
    .option("--wait", "watch the deployment until it ends; exit non-zero unless it succeeded")
    .option("--strategy <strategy>", "rolling, all_at_once or canary (default: the release's slipway.yaml)")
    .option("--batch-size <n|p%>", "hosts switched at a time, e.g. 2 or 25% (capped by max_unavailable)")
    .option("--max-unavailable <n|p%>", "hosts allowed out of service at once")
    .option("--pause-between-batches <duration>", "wait between batches, e.g. 30s")
    .option("--on-failure <action>", "rollback or pause, when a batch fails")
    .option("--health-timeout <duration>", "how long a switched host has to become healthy, e.g. 2m")
    .action(async (service: string, version: string, options: DeployFlags, command: Command) => {
      const api = await deploymentApiFor(command);
      const created = await api.create(service, { version, environment: options.env, rollout: rolloutFrom(options) });
      if (options.wait) return waitForDeployment(command, api, created);
      emit(command, created, (d) => `Deployment ${d.id} ${stateWord(d.state)}: ${describeTarget(d)}.\nFollow it with: slipway deployment show ${d.id} --follow`);
    });

  apiCommand(program, "rollback")
    .description("return an environment to the release that was live before the current one (every host at once; no download)")
    .argument("<service>", "name or id")
    .requiredOption("--env <environment>", "the environment to roll back")
    .option("--wait", "watch the rollback until it ends; exit non-zero unless it succeeded")
    .action(async (service: string, options: { env: string; wait?: boolean }, command: Command) => {
      const api = await deploymentApiFor(command);
      const created = await api.rollbackEnvironment(service, options.env);
      if (options.wait) return waitForDeployment(command, api, created);
      emit(command, created, (d) => `Rolling ${d.service} in ${d.environment} back to ${d.release.version}: deployment ${d.id} ${stateWord(d.state)}.\nFollow it with: slipway deployment show ${d.id} --follow`);
    });

  const deployment = program.command("deployment").description("look at, resume, cancel or roll back deployments");

  apiCommand(deployment, "show")
    .description("a deployment: state, stages, canary verdicts, hosts and events (with --follow, live until it ends)")
    .argument("<id>", "the deployment's id")
    .option("--follow", "keep showing its progress until it ends")
    .action(async (id: string, options: { follow?: boolean }, command: Command) => {
      const api = await deploymentApiFor(command);
      const d = await api.get(id);
      if (!options.follow || isFinal(d.state)) {
        const analysis = await api.analysis(id);
        return emit(command, { ...d, canary_analysis: analysis }, ({ canary_analysis, ...rest }) => describeDeployment(rest, canary_analysis));
      }
      if (wantsJson(command)) {
        // One JSON document per version of the deployment, one per line, until it ends.
        await followDeployment(api, id, (next) => process.stdout.write(JSON.stringify(next) + "\n"));
        return;
      }
      const view = new ProgressView(process.stdout, { tty: process.stdout.isTTY === true });
      const ticker = process.stdout.isTTY ? setInterval(() => view.tick(), 1000) : undefined;
      try {
        view.finish(await followDeployment(api, id, (next) => view.update(next)));
      } finally {
        clearInterval(ticker);
      }
    });

  apiCommand(deployment, "list")
    .description("a service's deployments, newest first")
    .argument("<service>", "name or id")
    .option("--env <environment>", "only this environment's")
    .option("--limit <n>", "how many (default 20)", "20")
    .action(async (service: string, options: { env?: string; limit: string }, command: Command) => {
      const limit = z.coerce.number().int().min(1).max(500).safeParse(options.limit);
      if (!limit.success) throw invalidInput(`--limit '${options.limit}' is not a number from 1 to 500`, [{ field: "--limit", message: "1 to 500" }]);
      const items = await (await deploymentApiFor(command)).list(service, options.env, limit.data);
      emitList(command, items, SUMMARY_COLUMNS, `No deployments of ${service}${options.env ? ` to ${options.env}` : ""} yet.`);
    });

  const verbs = { resume: "resumed", cancel: "cancelled", rollback: "rolling back" } as const;
  const help = { resume: "resume a paused deployment (failed hosts of its batch are checked again)", cancel: "cancel a deployment (hosts already switched go back)", rollback: "roll a deployment back (every host it changed returns to its previous release)" };
  for (const verb of ["resume", "cancel", "rollback"] as const) {
    apiCommand(deployment, verb)
      .description(help[verb])
      .argument("<id>", "the deployment's id")
      .option("--wait", "watch the deployment until it ends")
      .action(async (id: string, options: { wait?: boolean }, command: Command) => {
        const api = await deploymentApiFor(command);
        const d = await api.command(id, verb);
        if (options.wait && verb === "resume") return waitForDeployment(command, api, d);
        if (options.wait) {
          // Undoing is what was asked: it went well unless the deployment ended up failed.
          const final = await followDeployment(api, id, () => undefined);
          emit(command, final, (f) => `Deployment ${f.id} ${stateWord(f.state)}${f.reason ? `: ${withHostNames(f.reason, f)}` : ""}.`);
          if (final.state === "failed") throw new SlipwayError("conflict", `deployment ${final.id} failed: ${failureReason(final)}`);
          return;
        }
        emit(command, d, (next) => `Deployment ${next.id} ${verbs[verb]}: now ${stateLine(next)}.`);
      });
  }
}

