// A command health check for hosts that share one address (see docs/deployments.md, "slipway up"):
// exits 0 when GET /healthz on this host's PORT answers 2xx within a second.
import { request } from "node:http";

const url = `http://${process.env.BIND_ADDRESS ?? "127.0.0.1"}:${process.env.PORT ?? 8080}/healthz`;
const req = request(url, { timeout: 1000 }, (res) => {
  res.resume();
  process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", (error) => {
  console.error(`${url}: ${error.message}`);
  process.exit(1);
});
req.end();
