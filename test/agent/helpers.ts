// Shared pieces of the agent's tests: temporary data dirs, a silent logger, free loopback ports,
// an in-memory artifact source, and a look at which processes are really running.
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import pino from "pino";
import type { HostRelease } from "../../src/contracts/agent.ts";
import type { ArtifactResponse, ArtifactSource } from "../../src/agent/download.ts";
import { processesWithEnv, readProcStat } from "../../src/agent/proc.ts";
import type { BuiltArtifact } from "../support/artifact.ts";

export const silentLogger = () => pino({ level: "silent" });

export async function tempDir(prefix = "slipway-agent-"): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A port free on `address` right now. */
export function freePort(address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Serves artifacts from memory, honouring Range, and counts what it sends. */
export class MemoryArtifacts implements ArtifactSource {
  readonly blobs = new Map<string, Buffer>();
  requests = 0;
  bytesSent = 0;

  add(artifact: BuiltArtifact): void {
    this.blobs.set(artifact.sha256, artifact.bytes);
  }

  async artifact(sha256: string, start: number): Promise<ArtifactResponse> {
    this.requests++;
    const blob = this.blobs.get(sha256);
    if (!blob) throw new Error(`no artifact ${sha256}`);
    const body = blob.subarray(start);
    this.bytesSent += body.length;
    return { status: start > 0 ? 206 : 200, body: Readable.from([body]) };
  }
}

export function hostRelease(id: string, version: string, artifact: BuiltArtifact, manifest: unknown): HostRelease {
  return { id, version, artifact_sha256: artifact.sha256, artifact_size: artifact.size, manifest };
}

/**
 * The process groups of the service living in `serviceDir` (the agent marks its processes): one
 * per running instance, the `sh -c` of its start command and what that started.
 */
export const serviceProcesses = (serviceDir: string): number[] => [...new Set(processesWithEnv("SLIPWAY_SERVICE_DIR", serviceDir).map((pid) => readProcStat(pid)?.pgrp ?? pid))].sort();

export async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/** A TCP proxy in front of the server, to take the server "down" and bring it back on the same port. */
export class ToggleProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  readonly target: { host: string; port: number };
  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Refuses new connections and cuts the open ones, like a server that went away. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
