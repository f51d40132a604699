// The typed HTTP client of the Slipway API used by the CLI. Every response is parsed by its
// contract schema; every error body becomes a SlipwayError with the server's code, message and
// field details, so `run.ts` prints it as one clear line. Artifacts are streamed from disk,
// never read whole into memory.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { z } from "zod";
import { ERROR_CODES, SlipwayError, httpStatusOf, invalidInput, type ErrorCode } from "../core/errors.ts";
import { ErrorBody } from "../contracts/common.ts";
import { Host } from "../contracts/hosts.ts";
import { LogPage, Quarantine, Run, RunList, TestResultView, TestStats, Variable, WebhookSecret } from "../contracts/pipelines.ts";
import { Artifact, Release, type ReleaseCreate } from "../contracts/releases.ts";
import { Service, type ServiceCreateInput } from "../contracts/services.ts";
import { Tenant, TenantCreated, Token, TokenCreated, User, WhoAmI, type RoleName } from "../contracts/tenancy.ts";
import { resolveConnection, type Connection, type ConnectionOptions } from "./config.ts";
import { JSON_FLAG_HELP } from "./output.ts";

type Role = z.infer<typeof RoleName>;
const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) }).transform((list) => list.items);
const KnownErrorCode = z.enum(ERROR_CODES);
const query = (params: Record<string, string | number | undefined>): string => {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return defined.length === 0 ? "" : `?${new URLSearchParams(defined.map(([key, value]) => [key, String(value)])).toString()}`;
};
const segment = encodeURIComponent;

function codeForStatus(status: number): ErrorCode {
  return ERROR_CODES.find((code) => httpStatusOf(code) === status) ?? (status >= 500 ? "internal" : "invalid_input");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's error body as a SlipwayError; a status line when there is no body (HEAD, proxies). */
async function errorFrom(response: Response, unauthenticatedHint: string | undefined): Promise<SlipwayError> {
  const text = await response.text();
  const body = ErrorBody.safeParse(parseJson(text)).data?.error;
  const code = KnownErrorCode.safeParse(body?.code).data ?? codeForStatus(response.status);
  let message = body?.message ?? `the server answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
  if (code === "unauthenticated" && unauthenticatedHint) message += `; ${unauthenticatedHint}`;
  return new SlipwayError(code, message, { details: body?.details ?? [] });
}

/** sha256 and size of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a regular file");
    size = info.size;
  } catch (error) {
    throw invalidInput(`cannot read artifact '${path}': ${(error as Error).message}`, [{ field: "--artifact", message: "must be a readable file" }]);
  }
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return { sha256: hash.digest("hex"), size };
}

export class ApiClient {
  readonly server: string;
  readonly #token: string;
  /** Appended to a 401's message, to say what to do about it. */
  readonly #unauthenticatedHint: string | undefined;

  constructor(connection: Connection, options: { unauthenticatedHint?: string } = {}) {
    this.server = connection.server;
    this.#token = connection.token;
    this.#unauthenticatedHint = options.unauthenticatedHint;
  }

  /** The one place requests are sent: adds the token, turns network failures into a clear error. */
  async send(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const url = `${this.server}/api/v1${path}`;
    // `duplex` is needed to stream a request body (the DOM typings of RequestInit lack it). With
    // redirects followed, Node's fetch keeps every chunk of a streamed body in memory to replay it
    // (nodejs/undici#4058), so a request with a body refuses redirects instead.
    const request: RequestInit & { duplex?: "half" } = { method, headers: { authorization: `Bearer ${this.#token}`, ...init.headers }, ...(init.signal ? { signal: init.signal } : {}) };
    if (init.body !== undefined) {
      request.body = init.body;
      request.duplex = "half";
      request.redirect = "error";
    }
    try {
      return await fetch(url, request);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new SlipwayError("unavailable", `cannot reach the Slipway server at ${this.server}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
    }
  }

  /** A JSON request whose answer is parsed by `schema`; an error answer becomes a SlipwayError. */
  async request<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<z.output<S>> {
    const response = await this.send(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    return this.#read(schema, response, `${method} ${path}`);
  }

  /** The response body parsed by its schema, or the error the server answered. */
  async #read<S extends z.ZodType>(schema: S, response: Response, what: string): Promise<z.output<S>> {
    if (!response.ok) throw await errorFrom(response, this.#unauthenticatedHint);
    const parsed = schema.safeParse(response.status === 204 ? null : parseJson(await response.text()));
    if (!parsed.success) throw new SlipwayError("internal", `unexpected answer to ${what}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return parsed.data;
  }

  whoami = () => this.request(WhoAmI, "GET", "/whoami");

  listTenants = () => this.request(listOf(Tenant), "GET", "/tenants");
  createTenant = (name: string) => this.request(TenantCreated, "POST", "/tenants", { name });

  listUsers = () => this.request(listOf(User), "GET", "/users");
  createUser = (input: { name: string; email?: string | undefined; roles: Role[] }) => this.request(User, "POST", "/users", input);
  setUserRoles = (id: string, roles: Role[]) => this.request(User, "PATCH", `/users/${encodeURIComponent(id)}`, { roles });
  removeUser = (id: string) => this.request(z.null(), "DELETE", `/users/${encodeURIComponent(id)}`);

  listTokens = () => this.request(listOf(Token), "GET", "/tokens");
  createToken = (input: { name: string; kind: "user" | "agent"; user_id?: string | undefined; expires_in_days?: number | undefined }) => this.request(TokenCreated, "POST", "/tokens", input);
  revokeToken = (id: string) => this.request(Token, "DELETE", `/tokens/${encodeURIComponent(id)}`);

  listServices = () => this.request(listOf(Service), "GET", "/services");
  createService = (input: ServiceCreateInput) => this.request(Service, "POST", "/services", input);
  getService = (name: string) => this.request(Service, "GET", `/services/${encodeURIComponent(name)}`);

  listReleases = (service: string) => this.request(listOf(Release), "GET", `/services/${encodeURIComponent(service)}/releases`);
  createRelease = (service: string, input: ReleaseCreate) => this.request(Release, "POST", `/services/${encodeURIComponent(service)}/releases`, input);

  listHosts = (selector?: string) => this.request(listOf(Host), "GET", `/hosts${selector ? `?${new URLSearchParams({ selector }).toString()}` : ""}`);

  startRun = (service: string, input: { branch?: string | undefined; sha?: string | undefined }) => this.request(Run, "POST", `/services/${segment(service)}/runs`, input);
  /** Runs newest first: one service's, or the tenant's when `service` is undefined. */
  listRuns = (service: string | undefined, filter: { branch?: string | undefined; limit?: number | undefined; before?: number | undefined } = {}) =>
    this.request(RunList, "GET", `${service === undefined ? "" : `/services/${segment(service)}`}/runs${query(filter)}`).then((list) => list.items);
  getRun = (id: string) => this.request(Run, "GET", `/runs/${segment(id)}`);
  cancelRun = (id: string) => this.request(Run, "POST", `/runs/${segment(id)}/cancel`);
  runTests = (id: string) => this.request(listOf(TestResultView), "GET", `/runs/${segment(id)}/tests`);
  /** One page of a job's log after line `after`; with `wait_ms`, the server holds the answer until there are lines or the job ends. */
  jobLogs = (run: string, job: string, page: { after: number; limit?: number; wait_ms?: number }) => this.request(LogPage, "GET", `/runs/${segment(run)}/jobs/${segment(job)}/logs${query(page)}`);

  testStats = (service: string, sort: "slowest" | "flakiest" | "failing", limit?: number) => this.request(listOf(TestStats), "GET", `/services/${segment(service)}/tests${query({ sort, limit })}`);
  listQuarantine = (service: string) => this.request(listOf(Quarantine), "GET", `/services/${segment(service)}/quarantine`);
  quarantineTest = (service: string, testId: string, reason?: string) => this.request(z.null(), "PUT", `/services/${segment(service)}/quarantine/${segment(testId)}`, reason === undefined ? {} : { reason });
  releaseTest = (service: string, testId: string) => this.request(z.null(), "DELETE", `/services/${segment(service)}/quarantine/${segment(testId)}`);

  listVariables = (service: string) => this.request(listOf(Variable), "GET", `/services/${segment(service)}/variables`);
  setVariable = (service: string, name: string, value: string, secret: boolean) => this.request(Variable, "PUT", `/services/${segment(service)}/variables/${segment(name)}`, { value, secret });
  unsetVariable = (service: string, name: string) => this.request(z.null(), "DELETE", `/services/${segment(service)}/variables/${segment(name)}`);

  createWebhookSecret = (service: string) => this.request(WebhookSecret, "POST", `/services/${segment(service)}/webhook-secret`);

  /** Whether the tenant already holds this artifact (a HEAD request: no body is sent back). */
  async hasArtifact(sha256: string): Promise<boolean> {
    const path = `/artifacts/${sha256}`;
    const head = await this.send("HEAD", path);
    if (head.status === 404) return false;
    if (head.ok) return true;
    // A HEAD answer has no body to say what is wrong: ask for one byte to get the server's error.
    const probe = await this.send("GET", path, { headers: { range: "bytes=0-0" } });
    if (probe.ok) return true;
    throw await errorFrom(probe, this.#unauthenticatedHint);
  }

  /** Streams a file up as an artifact; the server refuses it if its sha256 is not `expected.sha256`. */
  async uploadArtifact(path: string, expected: { sha256: string; size: number }): Promise<Artifact> {
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    const response = await this.send("PUT", "/artifacts", {
      body,
      headers: { "content-type": "application/octet-stream", "content-length": String(expected.size), "x-slipway-sha256": expected.sha256 },
    });
    return this.#read(Artifact, response, "PUT /artifacts");
  }

  /** Uploads the file unless the server already has it; says which. */
  async ensureArtifact(path: string): Promise<{ sha256: string; size: number; uploaded: boolean }> {
    const file = await hashFile(path);
    if (await this.hasArtifact(file.sha256)) return { ...file, uploaded: false };
    const artifact = await this.uploadArtifact(path, file);
    return { sha256: artifact.sha256, size: artifact.size, uploaded: true };
  }
}

/**
 * A subcommand that talks to the API: it takes --server and --token (over SLIPWAY_SERVER,
 * SLIPWAY_TOKEN and the saved login) and --json. They are the subcommand's own options, not the
 * program's, because the program's `--version` would otherwise swallow `release create --version`.
 */
export function apiCommand(parent: Command, name: string): Command {
  return parent
    .command(name)
    .option("--server <url>", "the Slipway server (default: SLIPWAY_SERVER, then the saved login)")
    .option("--token <token>", "the API token (default: SLIPWAY_TOKEN, then the saved login)")
    .option("--json", JSON_FLAG_HELP);
}

/** The client for a command, connected as its flags, the environment or the saved login say. */
export async function clientFor(command: Command): Promise<ApiClient> {
  return new ApiClient(await resolveConnection(command.opts<ConnectionOptions>()), { unauthenticatedHint: "log in again with `slipway login --server URL --token TOKEN`" });
}
