// The Slipway server's own Prometheus metrics (GET /metrics), read around a timed window: how many
// requests each agent route served and how long they took on average, and how late the server's
// event loop ran (prom-client's event-loop delay histogram restarts at each scrape, so a scrape at
// the start of a window and one at its end give that window's figures).
export type Samples = Map<string, number>;

/** Parses the text exposition format: `name{labels} value` per line, comments skipped. */
export async function scrape(serverUrl: string): Promise<Samples> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

export interface RouteFigures {
  route: string;
  requests: number;
  meanMs: number;
}

export interface WindowFigures {
  routes: RouteFigures[];
  /** Event-loop delay over the window, ms. */
  loopDelay: { p50: number; p99: number; max: number };
}

const ROUTE = /^slipway_http_request_duration_seconds_(sum|count)\{.*route="([^"]+)".*\}$/;

/** What happened between two scrapes (`after` taken at the end of the window). */
export function windowFigures(before: Samples, after: Samples): WindowFigures {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const [key, value] of after) {
    const match = ROUTE.exec(key);
    if (!match) continue;
    const [, kind, route] = match as unknown as [string, "sum" | "count", string];
    const entry = sums.get(route) ?? { sum: 0, count: 0 };
    entry[kind] += value - (before.get(key) ?? 0);
    sums.set(route, entry);
  }
  const routes = [...sums].filter(([, v]) => v.count > 0).map(([route, v]) => ({ route, requests: v.count, meanMs: (v.sum / v.count) * 1000 }));
  const lag = (name: string) => (after.get(`slipway_nodejs_eventloop_lag_${name}_seconds`) ?? NaN) * 1000;
  return { routes: routes.sort((a, b) => b.requests - a.requests), loopDelay: { p50: lag("p50"), p99: lag("p99"), max: lag("max") } };
}
