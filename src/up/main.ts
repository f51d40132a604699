// `slipway up`: the embedded mode in one command. The server runs in this process on SQLite in
// the data dir; N real `slipway agent` processes are its hosts, and M more (--runner-only) its
// runners; the person gets a dashboard URL and an admin token. With --demo it also pushes the
// demo service through its pipeline to production (demo.ts), under steady traffic (traffic.ts)
// for its canaries to be judged by.
//
//   start: lock the data dir -> server (migrate, bootstrap on first start) -> tokens -> agents
//          (wait until each registered) -> print how to connect -> [traffic, demo] -> run until
//          a signal
//   stop (SIGINT, SIGTERM, SIGHUP): stop the demo and the traffic -> SIGTERM the agents, which
//          stop their services -> close the server -> release the lock -> exit 0. A second
//          signal kills the agents at once and exits 1.
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { ApiClient } from "../cli/client.ts";
import { DeploymentApi } from "../cli/deploy.ts";
import { formatLabels, renderTable } from "../cli/output.ts";
import { SlipwayError } from "../core/errors.ts";
import { ServerConfig } from "../server/config.ts";
import { createLogger } from "../server/logger.ts";
import { startServer, type RunningServer } from "../server/main.ts";
import { listHosts } from "../store/hosts.ts";
import { DEMO_SERVICE, demoRepoDir, runDemo } from "./demo.ts";
import { DEMO_MESSAGES } from "./demo-repo.ts";
import { canBind, hostUrl, LocalHosts, planHosts, planRunners, type HostPlan } from "./hosts.ts";
import { lockUpDir, openSession } from "./session.ts";
import { TrafficGenerator } from "./traffic.ts";

/** Requests per second `up --demo` sends to each host: enough for a 20 s canary step to tell 10% errors from none. */
export const DEMO_TRAFFIC_RATE = 20;

export interface UpOptions {
  dataDir: string;
  hosts: number;
  runners: number;
  port: number;
  /** How often the server polls each service's repository for pushes. */
  pollIntervalMs: number;
  demo: boolean;
  demoPort: number;
  logLevel: ServerConfig["logLevel"];
  json: boolean;
}

const display = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
};

async function startEmbeddedServer(options: UpOptions, logDir: string): Promise<RunningServer> {
  const logger = createLogger(options.logLevel, createWriteStream(join(logDir, "server.log"), { flags: "a" }));
  try {
    return await startServer(ServerConfig.parse({ dataDir: options.dataDir, host: "127.0.0.1", port: options.port, logLevel: options.logLevel, pollIntervalMs: options.pollIntervalMs }), { logger });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new SlipwayError("conflict", `port ${options.port} on 127.0.0.1 is in use (another slipway up or server?); choose another with --port`, { cause: error });
    throw error;
  }
}

function banner(o: { url: string; dashboard: string; adminToken: string; tenant: string; user: string; dataDir: string; logDir: string; hosts: HostPlan[]; sharedAddress: boolean }): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const hosts = o.hosts.filter((h) => !h.runner).length;
  const runners = o.hosts.length - hosts;
  const lines = [
    `Slipway is up: the server (SQLite in ${display(o.dataDir)}), ${plural(hosts, "local host")}${runners ? ` and ${plural(runners, "runner")}` : ""}.`,
    "",
    `  Dashboard:    ${o.dashboard}`,
    `  Admin token:  ${o.adminToken}   (new for this session: user '${o.user}' in tenant '${o.tenant}')`,
    `  CLI:          slipway login --server ${o.url} --token ${o.adminToken}`,
    "",
    renderTable(o.hosts, [
      { header: "HOST", value: (h) => h.name },
      { header: "ADDRESS", value: (h) => (h.runner ? "- (runs pipeline jobs)" : o.sharedAddress ? `${h.address} (PORT=${h.env.PORT})` : h.address) },
      { header: "LABELS", value: (h) => formatLabels(h.labels) },
    ])
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n"),
    "",
    `Logs in ${display(o.logDir)}/. Ctrl-C stops the hosts, their services, the runners and the server.`,
  ];
  if (o.sharedAddress) lines.push("(127.0.0.2 cannot be bound here: the hosts share 127.0.0.1 and each gets its own PORT.)");
  return lines.join("\n") + "\n";
}

interface Started {
  server: RunningServer;
  adminToken: string;
  plans: HostPlan[];
  sharedAddress: boolean;
}

export async function runUp(options: UpOptions): Promise<void> {
  const startedAt = Date.now();
  const dataDir = resolve(options.dataDir);
  const logDir = join(dataDir, "logs");
  await mkdir(logDir, { recursive: true });
  const unlock = await lockUpDir(dataDir);
  // Progress and notices: stdout for a person; stderr when stdout carries JSON lines.
  const notes = options.json ? process.stderr : process.stdout;
  const say = (line: string) => notes.write(line + "\n");

  let server: RunningServer | undefined;
  let hosts: LocalHosts | undefined;
  let traffic: TrafficGenerator | undefined;
  const demoStop = new AbortController();
  let stopping: Promise<void> | undefined;
  const shutdown = async () => {
    demoStop.abort();
    traffic?.stop();
    await hosts?.stop();
    await server?.close();
    await unlock();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: killing the agents now.`);
      hosts?.kill();
      process.exit(1);
    }
    say(`\n${signal}: stopping the hosts (and their services) and the runners, then the server...`);
    stopping = shutdown().then(
      () => {
        say("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        say(`error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, onSignal);

  let started: Started;
  try {
    server = await startEmbeddedServer(options, logDir);
    const session = await openSession(server.store.db, dataDir, Date.now());
    const sharedAddress = options.hosts > 1 && !(await canBind("127.0.0.2"));
    const plans = [...planHosts(options.hosts, dataDir, { sharedAddress, basePort: options.demoPort }), ...planRunners(options.runners, dataDir)];
    hosts = new LocalHosts({ server: server.url, agentToken: session.agentToken, plans, logDir, say });
    await hosts.start();
    started = { server, adminToken: session.adminToken, plans, sharedAddress };
    // Hosts cannot be unregistered: those of an earlier start with more --hosts stay, unreachable.
    const names = new Set(plans.map((h) => h.name));
    const stale = (await listHosts(server.store.db, session.tenantId, Date.now())).filter((h) => /^local-\d+$/.test(h.name) && !names.has(h.name)).map((h) => h.name);
    const staleNote =
      stale.length > 0
        ? `Note: ${stale.join(", ")} (from an earlier start with more --hosts) stay registered and unreachable; deployments skip them up to max_unreachable and then pause. Start with --hosts ${Math.max(...stale.map((name) => Number(name.slice(6))))} or a new --data-dir to avoid that.`
        : undefined;
    const dashboard = `${server.url}/#token=${session.adminToken}`;
    if (options.json) {
      const summary = {
        url: server.url,
        dashboard_url: dashboard,
        admin_token: session.adminToken,
        data_dir: dataDir,
        hosts: plans.filter((h) => !h.runner).map((h) => ({ name: h.name, address: h.address, labels: h.labels, demo_url: hostUrl(h, options.demoPort) })),
        runners: plans.filter((h) => h.runner).map((h) => ({ name: h.name, labels: h.labels })),
      };
      process.stdout.write(JSON.stringify(summary) + "\n");
    } else {
      say(banner({ url: server.url, dashboard, adminToken: session.adminToken, tenant: session.tenant, user: session.user, dataDir, logDir, hosts: plans, sharedAddress }));
    }
    if (staleNote) say(staleNote);
  } catch (error) {
    if (stopping) return;
    await shutdown();
    for (const signal of signals) process.off(signal, onSignal);
    throw error;
  }
  if (!options.demo) return;
  try {
    traffic = await startTraffic(started, options.demoPort, say);
    await demo(options, started, { startedAt, notes, signal: demoStop.signal });
  } catch (error) {
    // The demo failing leaves the platform running, to look at what went wrong.
    if (!stopping) say(`\n${(error as Error).message}\nSlipway keeps running; look with: slipway status ${DEMO_SERVICE}`);
  }
}

/** GET / on every host (staging and production) DEMO_TRAFFIC_RATE times a second, until `up` stops. */
async function startTraffic(started: Started, port: number, say: (line: string) => void): Promise<TrafficGenerator> {
  const targets = started.plans.filter((h) => !h.runner).map((h) => `${hostUrl(h, port)}/`);
  const traffic = new TrafficGenerator({ targets: () => targets, rate: DEMO_TRAFFIC_RATE });
  await traffic.start();
  say(`Traffic: ${DEMO_TRAFFIC_RATE} requests a second to GET / on each of the ${targets.length} hosts, for as long as up runs: what the production canary is judged by.`);
  return traffic;
}

/** Whether the trigger loop has polled the service's repository once (it runs in this process). */
function firstPollDone(server: RunningServer): (serviceId: string) => Promise<boolean> {
  return async (serviceId) => (await server.store.db.selectFrom("service_git_state").select("service_id").where("service_id", "=", serviceId).executeTakeFirst()) !== undefined;
}

async function demo(options: UpOptions, started: Started, context: { startedAt: number; notes: NodeJS.WriteStream; signal: AbortSignal }): Promise<void> {
  const connection = { server: started.server.url, token: started.adminToken };
  const { notes } = context;
  const repoDir = demoRepoDir(resolve(options.dataDir));
  const deployments = new DeploymentApi(connection);
  const outcome = await runDemo({
    api: new ApiClient(connection),
    deployments,
    repoDir,
    dashboard: started.server.url,
    pollIntervalMs: options.pollIntervalMs,
    firstPollDone: firstPollDone(started.server),
    port: options.demoPort,
    sharedAddress: started.sharedAddress,
    out: notes,
    tty: notes.isTTY === true,
    columns: () => notes.columns,
    signal: context.signal,
  });
  if (context.signal.aborted) return;
  // What production runs now: the demo's last good release, or a later one a person pushed.
  const live = (await deployments.status(DEMO_SERVICE)).environments.find((e) => e.name === "production")?.live?.version ?? outcome.version;
  const urls = started.plans.filter((h) => !h.runner && h.labels.env === "production").map((h) => `${hostUrl(h, options.demoPort)}/`);
  const seconds = Math.round((Date.now() - context.startedAt) / 1000);
  const server = started.server.url;
  const runUrl = `${server}/runs/${outcome.runId}`;
  const { caught } = outcome;
  const caughtUrl = caught ? `${server}/deployments/${encodeURIComponent(caught.deploymentId)}` : undefined;
  if (options.json) {
    const bad = caught && { version: caught.version, environment: caught.environment, state: "rolled_back", reason: caught.reason, hosts: caught.hosts, deployment_id: caught.deploymentId, deployment_url: caughtUrl };
    process.stdout.write(JSON.stringify({ demo: { service: DEMO_SERVICE, version: live, environment: "production", urls, seconds, repository: repoDir, run_url: runUrl, rolled_back: bad ?? null } }) + "\n");
  }
  notes.write(
    [
      "",
      `Demo done after ${seconds} s: production runs ${DEMO_SERVICE} ${live} on`,
      ...urls.map((u) => `  ${u}`),
      "",
      `Three commits, and nothing else: each push was built, tested on two runners, released, and`,
      `deployed to staging, then to production as a canary judged by its metrics under live traffic.`,
      ...(caught ? [`The third, a bad release, was caught by the canary and rolled back by itself:`, `  ${caught.reason}`] : []),
      `On the dashboard:`,
      ...(caughtUrl ? [`  ${caughtUrl}   (the rolled-back canary: its verdict, canary and baseline charts)`] : []),
      `  ${runUrl}   (the last run: its jobs, logs and tests)`,
      `  ${server}/services/${DEMO_SERVICE}   (what is live where, and each deployment)`,
      "",
      `The traffic goes on (${DEMO_TRAFFIC_RATE} requests a second to each host) until Ctrl-C. Try:`,
      `  curl ${urls[0] ?? ""}${live === outcome.version ? `   # "message": "${DEMO_MESSAGES[1]}"` : ""}`,
      ...(caught ? [`  slipway deployment show ${caught.deploymentId}   # the verdict, metric by metric`] : []),
      ...(caught ? [`  cd ${display(repoDir)} && git revert --no-edit HEAD   # undo the bad release: the fix passes its canary and ships`] : []),
      `  cd ${display(repoDir)} && $EDITOR server.js && git commit -am "my change"   # and watch it ship`,
      `  slipway status ${DEMO_SERVICE}`,
      `  slipway rollback ${DEMO_SERVICE} --env production --wait`,
      "",
    ].join("\n"),
  );
}
