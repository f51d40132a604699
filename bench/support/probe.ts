// An HTTP GET and a health probe as the agent's health monitor makes them (a fresh connection
// each time), for the rollout bench's floor.
import { request, type IncomingMessage } from "node:http";

export const get = (url: string, timeoutMs?: number) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false, ...(timeoutMs ? { timeout: timeoutMs } : {}) }, resolve);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });

/** Whether `url` answers 2xx or 3xx within `timeoutMs`. */
export async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await get(url, timeoutMs);
    res.resume();
    return (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400;
  } catch {
    return false;
  }
}

/** Probes `url` every `intervalMs` (the first after min(100 ms, interval)) until it is healthy; the number of probes. */
export async function untilHealthy(url: string, intervalMs: number, timeoutMs: number, deadline: number): Promise<number> {
  let probes = 0;
  let delay = Math.min(100, intervalMs);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    const started = Date.now();
    probes++;
    if (await probe(url, timeoutMs)) return probes;
    if (Date.now() > deadline) throw new Error(`${url} not healthy in time`);
    delay = Math.max(0, intervalMs - (Date.now() - started));
  }
}
