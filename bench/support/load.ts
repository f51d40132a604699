// One autocannon run against one URL, with the bearer token rotating over `tokens` on every
// request. Latencies are recorded here from autocannon's per-response timings (fractions of a
// millisecond): its own histogram keeps whole milliseconds, too coarse for a bare route.
import autocannon from "autocannon";

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Response bytes (headers and body) per 2xx response. */
  bytesPerResponse: number;
  non2xx: number;
  errors: number;
}

export async function runLoad(options: { url: string; path: string; tokens: string[]; connections: number; durationS: number }): Promise<LoadResult> {
  let next = 0;
  const authorization = options.tokens.map((token) => `Bearer ${token}`);
  const latencies: number[] = [];
  let okBytes = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        requests: [
          {
            method: "GET",
            path: options.path,
            setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: authorization[next++ % authorization.length] } }),
          },
        ],
      },
      (error, finished) => (error ? reject(error as Error) : resolve(finished)),
    );
    instance.on("response", (_client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => {
      if (statusCode < 200 || statusCode >= 300) return;
      latencies.push(responseTimeMs);
      okBytes += bytes;
    });
  });
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    bytesPerResponse: okBytes / Math.max(1, latencies.length),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
