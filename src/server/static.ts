// The dashboard: the React SPA built into web/dist (`npm run build:web`), served at `/`.
// Files that exist are sent as they are (hashed assets cached for a year); any other GET
// outside /api answers index.html, so the SPA's own paths survive a reload. /api/* paths keep
// the API's JSON 404. Whether web/dist exists is checked per request, so building the
// dashboard while the server runs needs no restart; until then `/` says how to build it.
import { stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

export const WEB_DIST_DIR = resolve(import.meta.dirname, "..", "..", "web", "dist");

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slipway</title></head>
<body style="font: 15px/1.5 system-ui, sans-serif; margin: 3rem auto; max-width: 40rem; color: #1f2933">
<h1 style="font-size: 1.3rem">Slipway is running, but its dashboard is not built</h1>
<p>Build it once with <code>npm run build:web</code> in the Slipway directory, then reload this page.
The API is served at <code>/api/v1</code> (<a href="/api/v1/openapi.json">OpenAPI</a>).</p>
</body></html>
`;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function staticRoutes(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? WEB_DIST_DIR;
  // serve: false: only reply.sendFile; the route below decides what each path gets.
  await app.register(fastifyStatic, { root, serve: false, suppressWarning: true });

  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const rawPath = (request.url.split("?")[0] ?? "/").split("#")[0] ?? "/";
    const path = decodeURIComponentSafe(rawPath);
    if (path === null || path === "/api" || path.startsWith("/api/")) return reply.callNotFound();
    if (!(await isFile(join(root, "index.html")))) return reply.type("text/html; charset=utf-8").send(NOT_BUILT_PAGE);
    const relative = path.replace(/^\/+/, "");
    const file = resolve(root, relative);
    if (relative && file.startsWith(root + sep) && (await isFile(file))) {
      // sendFile decodes the path itself, and refuses anything that leaves the root.
      const encoded = rawPath.replace(/^\/+/, "");
      return reply.sendFile(encoded, relative.startsWith("assets/") ? { maxAge: "365d", immutable: true } : { maxAge: 0 });
    }
    // A missing build asset is a real 404; anything else is a path inside the SPA.
    if (relative.startsWith("assets/")) return reply.callNotFound();
    reply.header("cache-control", "no-cache");
    return reply.sendFile("index.html", { cacheControl: false });
  });
}

function decodeURIComponentSafe(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}
