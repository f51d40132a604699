// The agent's side of the protocol in contracts/agent.ts, over HTTP with a bearer token. Every
// answer is parsed by its contract schema. Failures are AgentHttpErrors that say whether trying
// again later can help (network errors, 5xx, 429) or not (other 4xx), so the loop never crashes
// on a network error and never hammers the server with a request it refuses.
import { z } from "zod";
import { AgentRegistered, DesiredState, type AgentRegister, type AgentReport, type LogBatch } from "../contracts/agent.ts";
import { ErrorBody } from "../contracts/common.ts";
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

export interface AgentClientOptions {
  server: string;
  token: string;
  /** Bounds every request but the long poll and the artifact download. */
  requestTimeoutMs?: number;
  /** An artifact download gives up when no byte arrives for this long (it resumes later). */
  downloadIdleTimeoutMs?: number;
}

export class AgentClient implements ArtifactSource {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #idleMs: number;

  constructor(options: AgentClientOptions) {
    this.#base = options.server.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
    this.#idleMs = options.downloadIdleTimeoutMs ?? 60_000;
  }

  register(body: AgentRegister, signal?: AbortSignal): Promise<AgentRegistered> {
    return this.#json("POST", "/api/v1/agent/register", AgentRegistered, { body, signal });
  }

  /** Long-polls: answers at once when the generation is above `after`, else after `timeoutMs`. */
  desired(hostId: string, after: number, timeoutMs: number, signal?: AbortSignal): Promise<DesiredState> {
    const query = new URLSearchParams({ host_id: hostId, after: String(after), timeout_ms: String(timeoutMs) });
    return this.#json("GET", `/api/v1/agent/desired?${query}`, DesiredState, { signal, timeoutMs: timeoutMs + this.#timeoutMs });
  }

  report(body: AgentReport, signal?: AbortSignal): Promise<unknown> {
    return this.#json("POST", "/api/v1/agent/report", z.unknown(), { body, signal });
  }

  logs(body: LogBatch, signal?: AbortSignal): Promise<unknown> {
    return this.#json("POST", "/api/v1/agent/logs", z.unknown(), { body, signal });
  }

  /** The artifact's bytes from `start` on (Range): a 200 (whole), 206 (the rest) or 416 answer. */
  async artifact(sha256: string, start: number, signal?: AbortSignal): Promise<ArtifactResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (start > 0) headers.range = `bytes=${start}-`;
    const response = await this.#send(`/api/v1/artifacts/${sha256}`, { method: "GET", headers, idleTimeoutMs: this.#idleMs, ...(signal ? { signal } : {}) });
    if (response.status === 200 || response.status === 206 || response.status === 416) return response;
    throw await errorOf(response, `downloading artifact ${sha256}`);
  }

  async #json<T extends z.ZodType>(method: string, path: string, schema: T, options: { body?: unknown; signal?: AbortSignal | undefined; timeoutMs?: number }): Promise<z.infer<T>> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const what = `${method} ${path.split("?")[0]}`;
    const response = await this.#send(path, { method, headers, signal, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
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

  async #send(path: string, init: HttpRequest): Promise<HttpResponse> {
    try {
      return await send(this.#base + path, init);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentHttpError(`${init.method} ${path.split("?")[0]}: ${code && code !== "ABORT_ERR" ? code : (error as Error).message}`, null, { cause: error });
    }
  }
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
