// The floor's artifact server: plain node:http, no framework, no auth, no database, serving
// files from one directory by name (GET /<name>, streamed from disk with its content-length).
// Run as a child process by bench/rollout.ts, so it is off the measuring process's CPU as the
// Slipway server is:
//   node bench/support/file-server.ts <dir>
// It prints one JSON line {"url": ...} once it listens on 127.0.0.1.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node bench/support/file-server.ts <dir>");

const server = createServer((req, res) => {
  const name = basename(decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/"));
  const path = join(dir, name);
  stat(path).then(
    async (info) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": info.size });
      await pipeline(createReadStream(path), res).catch(() => undefined);
    },
    () => res.writeHead(404).end(),
  );
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
