// Configuration parsed once with clear errors, and logs that never carry a secret.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { SlipwayError } from "../../src/core/errors.ts";
import { loadServerConfig } from "../../src/server/config.ts";
import { createLogger } from "../../src/server/logger.ts";

describe("server configuration", () => {
  it("takes flags over SLIPWAY_* variables over defaults", () => {
    const config = loadServerConfig({ port: "8000" }, { SLIPWAY_PORT: "9000", SLIPWAY_DATA_DIR: "/srv/slipway" });
    assert.equal(config.port, 8000);
    assert.equal(config.dataDir, "/srv/slipway");
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.databaseUrl, undefined);
  });

  it("names the setting that is wrong", () => {
    assert.throws(
      () => loadServerConfig({ port: "eighty" }, { SLIPWAY_DATABASE_URL: "mysql://x" }),
      (error: unknown) =>
        error instanceof SlipwayError && error.details.map((d) => d.field).sort().join() === "databaseUrl,port" && /postgres:\/\//.test(error.message),
    );
  });
});

describe("logs", () => {
  it("redacts tokens, passwords and authorization headers", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger("info", sink);
    logger.info({ req: { headers: { authorization: "Bearer slw_secret1" } }, token: "slw_secret2", body: { password: "hunter2" } }, "request");
    const text = lines.join("");
    assert.doesNotMatch(text, /slw_secret1|slw_secret2|hunter2/);
    assert.match(text, /\[redacted\]/);
  });
});
