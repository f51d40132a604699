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
import { Artifact, Release, type ReleaseCreate } from "../contracts/releases.ts";
import { Service, type ServiceCreate } from "../contracts/services.ts";
import { Tenant, TenantCreated, Token, TokenCreated, User, WhoAmI, type RoleName } from "../contracts/tenancy.ts";
import { resolveConnection, type Connection, type ConnectionOptions } from "./config.ts";

type Role = z.infer<typeof RoleName>;
const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) }).transform((list) => list.items);

const LOGIN_HINT = "log in again with `slipway login --server URL --token TOKEN`";

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
async function errorFrom(response: Response): Promise<SlipwayError> {
  const text = await response.text();
  const parsed = ErrorBody.safeParse(parseJson(text));
  const known = parsed.success && (ERROR_CODES as readonly string[]).includes(parsed.data.error.code);
  const code = known && parsed.success ? (parsed.data.error.code as ErrorCode) : codeForStatus(response.status);
  let message = parsed.success ? parsed.data.error.message : `the server answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
  if (code === "unauthenticated") message += `; ${LOGIN_HINT}`;
  return new SlipwayError(code, message, { details: parsed.success ? parsed.data.error.details : [] });
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

  constructor(connection: Connection) {
    this.server = connection.server;
    this.#token = connection.token;
  }

  /** The one place requests are sent: adds the token, turns network failures into a clear error. */
  async #send(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = `${this.server}/api/v1${path}`;
    // `duplex` is needed to stream a request body; the DOM typings of RequestInit lack it.
    const request: RequestInit & { duplex?: "half" } = { method, headers: { authorization: `Bearer ${this.#token}`, ...init.headers } };
    if (init.body !== undefined) {
      request.body = init.body;
      request.duplex = "half";
    }
    try {
      return await fetch(url, request);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new SlipwayError("unavailable", `cannot reach the Slipway server at ${this.server}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
    }
  }

  async #request<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<z.output<S>> {
    const response = await this.#send(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    return ApiClient.#read(schema, response, `${method} ${path}`);
  }

  /** The response body parsed by its schema, or the error the server answered. */
  static async #read<S extends z.ZodType>(schema: S, response: Response, what: string): Promise<z.output<S>> {
    if (!response.ok) throw await errorFrom(response);
    const parsed = schema.safeParse(response.status === 204 ? null : parseJson(await response.text()));
    if (!parsed.success) throw new SlipwayError("internal", `unexpected answer to ${what}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return parsed.data;
  }

  whoami = () => this.#request(WhoAmI, "GET", "/whoami");

  listTenants = () => this.#request(listOf(Tenant), "GET", "/tenants");
  createTenant = (name: string) => this.#request(TenantCreated, "POST", "/tenants", { name });

  listUsers = () => this.#request(listOf(User), "GET", "/users");
  createUser = (input: { name: string; email?: string | undefined; roles: Role[] }) => this.#request(User, "POST", "/users", input);
  setUserRoles = (id: string, roles: Role[]) => this.#request(User, "PATCH", `/users/${encodeURIComponent(id)}`, { roles });
  removeUser = (id: string) => this.#request(z.null(), "DELETE", `/users/${encodeURIComponent(id)}`);

  listTokens = () => this.#request(listOf(Token), "GET", "/tokens");
  createToken = (input: { name: string; kind: "user" | "agent"; user_id?: string | undefined; expires_in_days?: number | undefined }) => this.#request(TokenCreated, "POST", "/tokens", input);
  revokeToken = (id: string) => this.#request(Token, "DELETE", `/tokens/${encodeURIComponent(id)}`);

  listServices = () => this.#request(listOf(Service), "GET", "/services");
  createService = (input: ServiceCreate) => this.#request(Service, "POST", "/services", input);
  getService = (name: string) => this.#request(Service, "GET", `/services/${encodeURIComponent(name)}`);

  listReleases = (service: string) => this.#request(listOf(Release), "GET", `/services/${encodeURIComponent(service)}/releases`);
  createRelease = (service: string, input: ReleaseCreate) => this.#request(Release, "POST", `/services/${encodeURIComponent(service)}/releases`, input);

  listHosts = (selector?: string) => this.#request(listOf(Host), "GET", `/hosts${selector ? `?${new URLSearchParams({ selector }).toString()}` : ""}`);

  /** Whether the tenant already holds this artifact (a HEAD request: no body is sent back). */
  async hasArtifact(sha256: string): Promise<boolean> {
    const response = await this.#send("HEAD", `/artifacts/${sha256}`);
    if (response.ok) return true;
    if (response.status === 404) return false;
    throw await errorFrom(response);
  }

  /** Streams a file up as an artifact; the server refuses it if its sha256 is not `expected.sha256`. */
  async uploadArtifact(path: string, expected: { sha256: string; size: number }): Promise<Artifact> {
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    const response = await this.#send("PUT", "/artifacts", {
      body,
      headers: { "content-type": "application/octet-stream", "content-length": String(expected.size), "x-slipway-sha256": expected.sha256 },
    });
    return ApiClient.#read(Artifact, response, "PUT /artifacts");
  }

  /** Uploads the file unless the server already has it; says which. */
  async ensureArtifact(path: string): Promise<{ sha256: string; size: number; uploaded: boolean }> {
    const file = await hashFile(path);
    if (await this.hasArtifact(file.sha256)) return { ...file, uploaded: false };
    const artifact = await this.uploadArtifact(path, file);
    return { sha256: artifact.sha256, size: artifact.size, uploaded: true };
  }
}

/** The client for a command, connected as its flags, the environment or the saved login say. */
export async function clientFor(command: Command): Promise<ApiClient> {
  return new ApiClient(await resolveConnection(command.optsWithGlobals<ConnectionOptions>()));
}
