// A tiny HTTP client for tests: real requests over real sockets, returning status and JSON.
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export type Api = <T = any>(method: string, path: string, options?: { token?: string | undefined; body?: unknown; headers?: Record<string, string> }) => Promise<ApiResponse<T>>;

export function apiClient(baseUrl: string, defaultToken?: string): Api {
  return async (method, path, options = {}) => {
    const token = options.token ?? defaultToken;
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.body instanceof Uint8Array) {
      body = options.body as Uint8Array<ArrayBuffer>;
      headers["content-type"] ??= "application/octet-stream";
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const response = await fetch(baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text) parsed = JSON.parse(text);
    return { status: response.status, body: parsed as never, headers: response.headers };
  };
}
