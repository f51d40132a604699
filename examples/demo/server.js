// The demo service `slipway up --demo` deploys: a small HTTP service with no dependencies.
//
//   GET /         {"service", "version", "message", "host", "pid"}: the version it was packaged with
//   GET /healthz  200 "ok" (or 500 when the release's slipway.yaml sets DEMO_FAIL_HEALTH=1)
//   GET /metrics  Prometheus text: a request counter and a latency histogram
//
// It listens on PORT at BIND_ADDRESS, both set by the Slipway agent from slipway.yaml and the
// agent's --address (PORT=0: any free port; the line printed once listening names the real one).
// The version comes from the VERSION file written into the release artifact.
//
// Faults a release can be given through `run.env` in its slipway.yaml, read once at start (to
// see a canary analysis tell a bad release from a good one):
//   DEMO_ERROR_RATE   0 to 1: that fraction of GET / is answered 500, spread evenly (0.25: every fourth)
//   DEMO_LATENCY_MS   milliseconds added to every GET /
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

// What GET / says; the demo's second commit changes it.
const MESSAGE = "Hello from the Slipway demo";

const version = readText("VERSION") ?? "dev";
const port = Number(process.env.PORT ?? 8080);
const address = process.env.BIND_ADDRESS ?? "127.0.0.1";
const failHealth = process.env.DEMO_FAIL_HEALTH === "1";
const errorRate = numberFromEnv("DEMO_ERROR_RATE", { min: 0, max: 1 });
const latencyMs = numberFromEnv("DEMO_LATENCY_MS", { min: 0, max: 60_000 });

function readText(name) {
  try {
    return readFileSync(join(import.meta.dirname, name), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A number from the environment (0 when unset), or exit with a message naming the variable. */
function numberFromEnv(name, { min, max }) {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return 0;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`${name} must be a number from ${min} to ${max}, not '${text}'`);
    process.exit(2);
  }
  return value;
}

// ---- injected faults ----
let rootRequests = 0;

/** Whether this GET / fails: the n-th fails when floor(n * rate) goes up, so exactly `rate` of them fail, evenly. */
function injectError() {
  rootRequests += 1;
  return Math.floor(rootRequests * errorRate) > Math.floor((rootRequests - 1) * errorRate);
}

// ---- metrics ----
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const requests = new Map(); // "route\0status" -> count
const latency = new Map(); // route -> { buckets: number[], sum, count }

function observe(route, status, seconds) {
  const key = `${route}\0${status}`;
  requests.set(key, (requests.get(key) ?? 0) + 1);
  let h = latency.get(route);
  if (!h) latency.set(route, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) h.buckets[i] += 1;
  });
  h.sum += seconds;
  h.count += 1;
}

function metricsText() {
  const labels = `version="${version}"`;
  const lines = ["# HELP demo_requests_total HTTP requests answered, by route and status.", "# TYPE demo_requests_total counter"];
  for (const [key, count] of requests) {
    const [route, status] = key.split("\0");
    lines.push(`demo_requests_total{route="${route}",status="${status}",${labels}} ${count}`);
  }
  lines.push("# HELP demo_request_duration_seconds Time to answer an HTTP request.", "# TYPE demo_request_duration_seconds histogram");
  for (const [route, h] of latency) {
    BUCKETS.forEach((le, i) => lines.push(`demo_request_duration_seconds_bucket{route="${route}",le="${le}",${labels}} ${h.buckets[i]}`));
    lines.push(`demo_request_duration_seconds_bucket{route="${route}",le="+Inf",${labels}} ${h.count}`);
    lines.push(`demo_request_duration_seconds_sum{route="${route}",${labels}} ${h.sum}`);
    lines.push(`demo_request_duration_seconds_count{route="${route}",${labels}} ${h.count}`);
  }
  return lines.join("\n") + "\n";
}

// ---- routes ----
const server = createServer((req, res) => {
  const started = process.hrtime.bigint();
  const path = (req.url ?? "/").split("?")[0];
  const route = ["/", "/healthz", "/metrics"].includes(path) ? path : "other";
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type }).end(body);
    observe(route, status, Number(process.hrtime.bigint() - started) / 1e9);
  };
  if (req.method !== "GET") return send(405, "text/plain", "method not allowed\n");
  if (route === "/healthz") return failHealth ? send(500, "text/plain", "failing on purpose (DEMO_FAIL_HEALTH=1)\n") : send(200, "text/plain", "ok\n");
  if (route === "/metrics") return send(200, "text/plain; version=0.0.4", metricsText());
  if (route === "/") {
    const answer = () => {
      const identity = { service: process.env.SLIPWAY_SERVICE ?? "demo", version, host: process.env.SLIPWAY_HOST ?? null, pid: process.pid };
      if (injectError()) return send(500, "application/json", JSON.stringify({ ...identity, error: `failing on purpose (DEMO_ERROR_RATE=${errorRate})` }) + "\n");
      return send(200, "application/json", JSON.stringify({ ...identity, message: MESSAGE }) + "\n");
    };
    return latencyMs > 0 ? void setTimeout(answer, latencyMs) : answer();
  }
  return send(404, "text/plain", "not found\n");
});

server.listen(port, address, () => {
  const faults = [errorRate > 0 && `DEMO_ERROR_RATE=${errorRate}`, latencyMs > 0 && `DEMO_LATENCY_MS=${latencyMs}`].filter(Boolean);
  console.log(`demo ${version} listening on http://${address}:${server.address().port}${faults.length ? ` (injecting ${faults.join(", ")})` : ""}`);
});

// The agent stops a release with SIGTERM: finish what is in flight, then exit.
const stop = () => {
  console.log("stopping");
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
