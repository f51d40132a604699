// A real Slipway server for a test file, in this process, on a free port, over a fresh store.
import { startServer, type RunningServer } from "../../src/server/main.ts";
import { ServerConfig } from "../../src/server/config.ts";
import { createLogger } from "../../src/server/logger.ts";
import { apiClient, type Api } from "./api.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestServer {
  server: RunningServer;
  database: TestDatabase;
  url: string;
  adminToken: string;
  /** Requests as the bootstrap admin unless another token is given. */
  api: Api;
  stop(): Promise<void>;
}

export async function startTestServer(options: { clock?: () => number; maxArtifactBytes?: number; pollIntervalMs?: number } = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const config = ServerConfig.parse({ dataDir: database.dataDir, databaseUrl: database.databaseUrl, port: 0, logLevel: "silent", maxArtifactBytes: options.maxArtifactBytes, pollIntervalMs: options.pollIntervalMs });
  const server = await startServer(config, { logger: createLogger("silent"), ...(options.clock ? { clock: options.clock } : {}) });
  const adminToken = server.bootstrapToken?.token;
  if (!adminToken) throw new Error("a fresh store should have been bootstrapped");
  return {
    server,
    database,
    url: server.url,
    adminToken,
    api: apiClient(server.url, adminToken),
    stop: async () => {
      await server.close();
      await database.drop();
    },
  };
}

/** A new tenant whose admin is the bootstrap admin; returns the admin's token for it. */
export async function createTenantWithAdmin(t: TestServer, name: string): Promise<string> {
  const created = await t.api("POST", "/api/v1/tenants", { body: { name } });
  if (created.status !== 201) throw new Error(`creating tenant ${name}: ${JSON.stringify(created.body)}`);
  return created.body.token.token as string;
}
