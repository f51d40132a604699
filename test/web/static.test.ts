// The dashboard's static serving: files from web/dist, index.html for the SPA's own paths,
// the API's JSON 404 kept for /api/*, and a page saying how to build the dashboard when
// web/dist is missing.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { installErrorHandling } from "../../src/server/errors.ts";
import { staticRoutes } from "../../src/server/static.ts";

let root: string;
let app: FastifyInstance;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "slipway-web-"));
  app = Fastify();
  installErrorHandling(app);
  app.get("/api/v1/ping", async () => ({ pong: true }));
  await app.register(staticRoutes, { root: join(root, "dist") });
});

after(async () => {
  await app.close();
  await rm(root, { recursive: true, force: true });
});

describe("static dashboard", () => {
  it("answers a page saying how to build the dashboard while web/dist is missing", async () => {
    const response = await app.inject({ method: "GET", url: "/" });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] as string, /text\/html/);
    assert.match(response.body, /npm run build:web/);
  });

  it("serves index.html at / and for the SPA's own paths, uncached", async () => {
    await mkdir(join(root, "dist", "assets"), { recursive: true });
    await writeFile(join(root, "dist", "index.html"), "<!doctype html><title>dashboard</title>");
    await writeFile(join(root, "dist", "assets", "app-1234.js"), "console.log(1)");
    for (const url of ["/", "/services/shop", "/deep/path?x=1"]) {
      const response = await app.inject({ method: "GET", url });
      assert.equal(response.statusCode, 200, url);
      assert.match(response.body, /<title>dashboard<\/title>/, url);
      assert.equal(response.headers["cache-control"], "no-cache", url);
    }
  });

  it("serves built assets with a long immutable cache, and 404s a missing one", async () => {
    const asset = await app.inject({ method: "GET", url: "/assets/app-1234.js" });
    assert.equal(asset.statusCode, 200);
    assert.match(asset.headers["content-type"] as string, /javascript/);
    assert.match(asset.headers["cache-control"] as string, /max-age=31536000.*immutable/);
    assert.equal((await app.inject({ method: "GET", url: "/assets/missing.js" })).statusCode, 404);
  });

  it("keeps the API's JSON 404 for unknown /api paths and leaves API routes alone", async () => {
    const missing = await app.inject({ method: "GET", url: "/api/v1/nope" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, "not_found");
    assert.deepEqual((await app.inject({ method: "GET", url: "/api/v1/ping" })).json(), { pong: true });
    assert.equal((await app.inject({ method: "POST", url: "/anything" })).json().error.code, "not_found");
  });

  it("never serves a file from outside web/dist", async () => {
    await writeFile(join(root, "secret.txt"), "secret");
    for (const url of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"]) {
      const response = await app.inject({ method: "GET", url });
      assert.doesNotMatch(response.body, /^secret$/, url);
    }
  });
});
