// A fleet of real `slipway agent` processes for end-to-end tests: each host has its own data
// dir and its own loopback address (127.0.0.x), and can be killed and brought back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnJsonLineProcess, type ChildHandle } from "./process.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

export interface FleetHost {
  name: string;
  address: string;
  labels: Record<string, string>;
  dataDir: string;
  agent: ChildHandle<{ host_id: string }> | undefined;
  /** Extra flags, e.g. --runner-only. */
  args?: string[];
}

export class Fleet {
  readonly hosts: FleetHost[] = [];
  serverUrl: string;
  private readonly token: string;
  private root = "";

  constructor(serverUrl: string, token: string) {
    this.serverUrl = serverUrl;
    this.token = token;
  }

  /** Starts `count` agents named `${prefix}-1..n` on 127.0.0.(firstOctet..). */
  async start(count: number, options: { prefix: string; firstOctet: number; labels: (index: number) => Record<string, string>; args?: string[] }): Promise<void> {
    this.root ||= await mkdtemp(join(tmpdir(), "slipway-fleet-"));
    const started = Array.from({ length: count }, (_, i) => {
      const host: FleetHost = { name: `${options.prefix}-${i + 1}`, address: `127.0.0.${options.firstOctet + i}`, labels: options.labels(i), dataDir: join(this.root, `${options.prefix}-${i + 1}`), agent: undefined, args: options.args ?? [] };
      this.hosts.push(host);
      return this.startAgent(host);
    });
    await Promise.all(started);
  }

  host(name: string): FleetHost {
    const found = this.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no host ${name}`);
    return found;
  }

  async startAgent(host: FleetHost): Promise<void> {
    const labels = Object.entries(host.labels).map(([k, v]) => `${k}=${v}`).join(",");
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SLIPWAY_"))), SLIPWAY_TOKEN: this.token };
    const args = [CLI, "agent", "--server", this.serverUrl, "--name", host.name, "--labels", labels, "--address", host.address, "--data-dir", host.dataDir, ...(host.args ?? [])];
    host.agent = await spawnJsonLineProcess(
      [...args, "--json", "--log-level", "warn", "--stop-services-on-exit", "--restart-delay-ms", "100", "--max-restart-delay-ms", "400"],
      { env, what: `agent ${host.name}` },
    );
  }

  async stopAgent(host: FleetHost, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await host.agent?.kill(signal);
    host.agent = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.stopAgent(h)));
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * What the service on `address:port` answers at `/` (its version, pid, ...), or undefined if it
 * does not answer. A 500 the demo gives on purpose (DEMO_ERROR_RATE) still names them, and counts.
 */
export async function served(address: string, port: number): Promise<({ version: string; pid: number } & Record<string, unknown>) | undefined> {
  try {
    const response = await fetch(`http://${address}:${port}/`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    return typeof body?.version === "string" && typeof body.pid === "number" ? { ...body, version: body.version, pid: body.pid } : undefined;
  } catch {
    return undefined;
  }
}
