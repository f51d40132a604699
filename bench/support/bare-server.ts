// The floor Slipway's API is compared with: Fastify with no logger, no database and no
// schemas, answering GET /api/v1/services with the very list Slipway gave the same token (a
// Map lookup by the Authorization header), so the bytes on the wire are the same, request for
// request. Run as a child process by bench/api.ts:
//   node bench/support/bare-server.ts <bodies.json>      ({"Bearer slw_...": {...}, ...})
// It prints one JSON line {"url": ...} once it listens.
import { readFileSync } from "node:fs";
import Fastify from "fastify";

const file = process.argv[2];
if (!file) throw new Error("usage: node bench/support/bare-server.ts <bodies.json>");
const bodies = new Map(Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>));

const app = Fastify({ logger: false });
app.get("/api/v1/services", async (request, reply) => bodies.get(request.headers.authorization ?? "") ?? reply.status(401).send({ error: "unknown token" }));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(JSON.stringify({ url: address }) + "\n");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
