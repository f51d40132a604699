// Minimal HTTP(S) requests over node:http, for the agent's few calls to the server. The agent
// runs on every host, so it avoids loading fetch's engine (undici), which would add some 15 MB of
// memory to each one; connections are kept alive between reports and polls.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The body as a stream; read it (text()) or destroy it. */
  body: IncomingMessage;
}

export interface HttpRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Gives up when the connection stays silent this long (also while the body streams). */
  idleTimeoutMs?: number;
}

const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 8 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 8 }) };

/** Resolves with the response head; rejects on a network error or when `signal` aborts. */
export function send(url: string, init: HttpRequest): Promise<HttpResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = Buffer.byteLength(init.body);
    const req = request(target, { method: init.method, headers, agent: secure ? agents.https : agents.http, signal: init.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: res.headers, body: res });
    });
    if (init.idleTimeoutMs !== undefined) req.setTimeout(init.idleTimeoutMs, () => req.destroy(new Error(`no data from the server for ${init.idleTimeoutMs} ms`)));
    req.once("error", reject);
    req.end(init.body);
  });
}

/** The whole body as text (at most `limit` bytes kept). */
export async function text(response: HttpResponse, limit = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.body.destroy();
      throw new Error(`the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
