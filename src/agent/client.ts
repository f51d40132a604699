// The agent's side of the protocols in contracts/agent.ts (host) and contracts/runner.ts
// (runner, see runner/client.ts), over HTTP with a bearer token. Both go through one ServerHttp:
// every answer is parsed by its contract schema, and failures are AgentHttpErrors that say
// whether trying again later can help (network errors, 5xx, 429) or not (other 4xx), so a loop
// never crashes on a network error and never hammers the server with a request it refuses.
import { createReadStream } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { AgentRegistered, DesiredState, type AgentRegister, type AgentReport, type LogBatch } from "../contracts/agent.ts";
import { ErrorBody } from "../contracts/common.ts";
import { Artifact } from "../contracts/releases.ts";
import type { ArtifactResponse, ArtifactSource } from "./download.ts";
import { send, text, type HttpRequest, type HttpResponse } from "./http.ts";

export class AgentHttpError extends Error {
  override name = "AgentHttpError";
  /** The HTTP status, or null when the server was not reached. */
  readonly status: number | null;
  constructor(message: string, status: number | null, options: { cause?: unknown } = {}) {
    super(message, options);
    this.status = status;
  }
  /** Worth trying again later: the server was unreachable, overloaded or failing. */
  get transient(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** True for a failure that may go away by itself (see AgentHttpError.transient); other errors count as network errors. */
export const isTransient = (error: unknown): boolean => !(error instanceof AgentHttpError) || error.transient;

export interface AgentClientOptions {
  server: string;
  token: string;
  /** Bounds every request but the long polls and the artifact transfers. */
  requestTimeoutMs?: number;
  /** An artifact transfer gives up when no byte moves for this long (a download resumes later). */
  downloadIdleTimeoutMs?: number;
}

export interface JsonRequest {
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Instead of the client's request timeout (a long poll waits longer). */
  timeoutMs?: number;
}

/** The one way the agent talks to the server: JSON calls, artifact downloads and uploads. */
export class ServerHttp implements ArtifactSource {
  readonly #base: string;
  readonly #token: string;
  readonly requestTimeoutMs: number;
  readonly #idleMs: number;

  constructor(options: AgentClientOptions) {
    this.#base = options.server.replace(/\/+$/, "");
    this.#token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.#idleMs = options.downloadIdleTimeoutMs ?? 60_000;
  }

  async json<T extends z.ZodType>(method: string, path: string, schema: T, options: JsonRequest = {}): Promise<z.infer<T>> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.requestTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { ...this.#auth(), accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const what = `${method} ${path.split("?")[0]}`;
    const response = await this.#send(path, { method, headers, signal, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    return readJson(response, schema, what);
  }

  /** The artifact's bytes from `start` on (Range): a 200 (whole), 206 (the rest) or 416 answer. */
  async artifact(sha256: string, start: number, signal?: AbortSignal): Promise<ArtifactResponse> {
    const headers = this.#auth();
    if (start > 0) headers.range = `bytes=${start}-`;
    const response = await this.#send(`/api/v1/artifacts/${sha256}`, { method: "GET", headers, idleTimeoutMs: this.#idleMs, ...(signal ? { signal } : {}) });
    if (response.status === 200 || response.status === 206 || response.status === 416) return response;
    throw await errorOf(response, `downloading artifact ${sha256}`);
  }

  /** The artifact's size in bytes (a HEAD request), for a download that only knows its sha256. */
  async artifactSize(sha256: string, signal?: AbortSignal): Promise<number> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const response = await this.#send(`/api/v1/artifacts/${sha256}`, { method: "HEAD", headers: this.#auth(), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    response.body.resume();
    const size = Number(response.headers["content-length"]);
    if (response.status !== 200) throw new AgentHttpError(`HEAD artifact ${sha256}: ${response.status} ${response.statusText}`, response.status);
    if (!Number.isSafeInteger(size) || size < 0) throw new AgentHttpError(`HEAD artifact ${sha256}: no content-length in the answer`, response.status);
    return size;
  }

  /**
   * Streams the file at `path` up as an artifact (PUT /api/v1/artifacts); the server refuses it
   * unless its bytes have `expected.sha256`. The request goes out with node:http directly because
   * send() only takes a string body.
   */
  async upload(path: string, expected: { sha256: string; size: number }, signal?: AbortSignal): Promise<Artifact> {
    const target = new URL(`${this.#base}/api/v1/artifacts`);
    const headers = { ...this.#auth(), accept: "application/json", "content-type": "application/octet-stream", "content-length": String(expected.size), "x-slipway-sha256": expected.sha256 };
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    const what = "PUT /api/v1/artifacts";
    let response: HttpResponse;
    try {
      response = await new Promise<HttpResponse>((resolve, reject) => {
        const req = request(target, { method: "PUT", headers, ...(signal ? { signal } : {}) }, (res) => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: res.headers, body: res }));
        req.setTimeout(this.#idleMs, () => req.destroy(new Error(`no progress for ${this.#idleMs} ms`)));
        req.once("error", reject);
        pipeline(createReadStream(path), req).catch(reject);
      });
    } catch (error) {
      throw new AgentHttpError(`${what}: ${(error as Error).message}`, null, { cause: error });
    }
    return readJson(response, Artifact, what);
  }

  #auth(): Record<string, string> {
    return { authorization: `Bearer ${this.#token}` };
  }

  async #send(path: string, init: HttpRequest): Promise<HttpResponse> {
    try {
      return await send(this.#base + path, init);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentHttpError(`${init.method} ${path.split("?")[0]}: ${code && code !== "ABORT_ERR" ? code : (error as Error).message}`, null, { cause: error });
    }
  }
}

export class AgentClient implements ArtifactSource {
  readonly http: ServerHttp;

  constructor(options: AgentClientOptions | ServerHttp) {
    this.http = options instanceof ServerHttp ? options : new ServerHttp(options);
  }

  register(body: AgentRegister, signal?: AbortSignal): Promise<AgentRegistered> {
    return this.http.json("POST", "/api/v1/agent/register", AgentRegistered, { body, signal });
  }

  /** Long-polls: answers at once when the generation is above `after`, else after `timeoutMs`. */
  desired(hostId: string, after: number, timeoutMs: number, signal?: AbortSignal): Promise<DesiredState> {
    const query = new URLSearchParams({ host_id: hostId, after: String(after), timeout_ms: String(timeoutMs) });
    return this.http.json("GET", `/api/v1/agent/desired?${query}`, DesiredState, { signal, timeoutMs: timeoutMs + this.http.requestTimeoutMs });
  }

  report(body: AgentReport, signal?: AbortSignal): Promise<unknown> {
    return this.http.json("POST", "/api/v1/agent/report", z.unknown(), { body, signal });
  }

  logs(body: LogBatch, signal?: AbortSignal): Promise<unknown> {
    return this.http.json("POST", "/api/v1/agent/logs", z.unknown(), { body, signal });
  }

  artifact(sha256: string, start: number, signal?: AbortSignal): Promise<ArtifactResponse> {
    return this.http.artifact(sha256, start, signal);
  }
}

/** A 2xx answer's JSON, parsed by `schema`; anything else as an AgentHttpError. */
async function readJson<T extends z.ZodType>(response: HttpResponse, schema: T, what: string): Promise<z.infer<T>> {
  if (response.status < 200 || response.status >= 300) throw await errorOf(response, what);
  let payload: unknown;
  try {
    payload = JSON.parse(await text(response));
  } catch (error) {
    throw new AgentHttpError(`${what}: the answer is not JSON (${(error as Error).message})`, null, { cause: error });
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new AgentHttpError(`${what}: unexpected answer: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, response.status);
  return parsed.data;
}

async function errorOf(response: HttpResponse, what: string): Promise<AgentHttpError> {
  const body = await text(response, 64 * 1024).catch(() => "");
  let message = `${response.status} ${response.statusText}`;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(body));
    if (parsed.success) message = `${response.status} ${parsed.data.error.code}: ${parsed.data.error.message}`;
  } catch {
    // not JSON: keep the status line
  }
  return new AgentHttpError(`${what}: ${message}`, response.status);
}
