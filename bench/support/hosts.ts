// Hosts for the rollout bench: loopback addresses checked before anything starts, agents started
// a few at a time (a hundred Node processes starting at once on a small machine would each take
// longer than the fleet helper's start-up timeout), and a cheap probe of what each host serves.
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Fleet, FleetHost } from "../../test/support/fleet.ts";

/** `count` loopback addresses from 127.0.0.<firstOctet> on (the last octet only: at most 254). */
export function loopbackAddresses(count: number, firstOctet: number): string[] {
  if (firstOctet + count - 1 > 254) throw new Error(`${count} hosts from 127.0.0.${firstOctet} do not fit in 127.0.0.0/24`);
  return Array.from({ length: count }, (_, i) => `127.0.0.${firstOctet + i}`);
}

/** Resolves when `address:port` can be listened on; rejects with the reason otherwise. */
function tryBind(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => reject(new Error(`${address}:${port} does not bind (${error.code ?? error.message})`)));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * A port free on every address (tried at random in 20000–31999, below the ephemeral range), checking that each address
 * binds at all; throws at once when an address cannot be bound (EADDRNOTAVAIL: no loopback /8).
 */
export async function freePortOnAll(addresses: string[], attempts = 10): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      for (const address of addresses) await tryBind(address, port);
      return port;
    } catch (error) {
      if (!/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
  throw new Error(`no port free on all of ${addresses[0]}…${addresses.at(-1)} after ${attempts} tries`);
}

/** Adds hosts `${prefix}-1..n` on `addresses` to the fleet and starts their agents, `concurrency` at a time. */
export async function startAgents(fleet: Fleet, options: { root: string; prefix: string; addresses: string[]; labels: Record<string, string>; concurrency: number; log: (m: string) => void }): Promise<void> {
  const hosts: FleetHost[] = options.addresses.map((address, i) => ({ name: `${options.prefix}-${i + 1}`, address, labels: options.labels, dataDir: join(options.root, `${options.prefix}-${i + 1}`), agent: undefined }));
  fleet.hosts.push(...hosts);
  let next = 0;
  let started = 0;
  const worker = async () => {
    for (let i = next++; i < hosts.length; i = next++) {
      await fleet.startAgent(hosts[i]!);
      if (++started % 25 === 0 || started === hosts.length) options.log(`  ${started}/${hosts.length} agents registered`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, hosts.length) }, worker));
}

/**
 * The version the service on `address:port` answers at `/`, or undefined when nothing answers.
 * A fresh connection each time (no keep-alive, so the bench never holds a service's socket open
 * while it is being stopped) and node:http rather than fetch, to keep the bench's own CPU low.
 */
export function servedVersion(address: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path: "/", agent: false, timeout: timeoutMs, headers: { connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { version?: string }).version : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** What every address serves, `concurrency` requests at a time. */
export async function versionsServed(addresses: string[], port: number, concurrency = 20): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = new Array(addresses.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < addresses.length; i = next++) out[i] = await servedVersion(addresses[i]!, port);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, addresses.length) }, worker));
  return out;
}
