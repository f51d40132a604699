// Users, roles and tokens: who may do what, and tokens that stop working when they should.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../support/api.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let t: TestServer;
let now = Date.parse("2026-11-23T10:00:00Z");

before(async () => {
  t = await startTestServer({ clock: () => now });
});
after(() => t.stop());

async function memberToken(name: string, roles: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const user = await t.api("POST", "/api/v1/users", { body: { name, roles } });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const token = await t.api("POST", "/api/v1/tokens", { body: { name: `${name}'s token`, user_id: user.body.id, ...extra } });
  assert.equal(token.status, 201, JSON.stringify(token.body));
  return token.body.token;
}

describe("tokens", () => {
  it("shows the secret once and stores only a hash of it", async () => {
    const created = await t.api("POST", "/api/v1/tokens", { body: { name: "laptop" } });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^slw_/);
    const listed = await t.api("GET", "/api/v1/tokens");
    const entry = listed.body.items.find((x: any) => x.id === created.body.id);
    assert.equal(entry.token, undefined);
    assert.equal(created.body.token.startsWith(entry.prefix), true);
    const rows = await t.server.store.db.selectFrom("api_tokens").select("token_hash").execute();
    assert.ok(rows.every((r) => !r.token_hash.includes(created.body.token)));
  });

  it("refuses a revoked token with 401", async () => {
    const created = await t.api("POST", "/api/v1/tokens", { body: { name: "to revoke" } });
    const api = apiClient(t.url, created.body.token);
    assert.equal((await api("GET", "/api/v1/services")).status, 200);
    const revoked = await t.api("DELETE", `/api/v1/tokens/${created.body.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revoked_at);
    const refused = await api("GET", "/api/v1/services");
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, "unauthenticated");
  });

  it("refuses an expired token once its time has passed", async () => {
    const token = (await t.api("POST", "/api/v1/tokens", { body: { name: "short", expires_in_days: 1 } })).body.token;
    const api = apiClient(t.url, token);
    assert.equal((await api("GET", "/api/v1/whoami")).status, 200);
    now += 86_400_000 + 1;
    assert.equal((await api("GET", "/api/v1/whoami")).status, 401);
  });

  it("records when a token was last used", async () => {
    const created = await t.api("POST", "/api/v1/tokens", { body: { name: "used" } });
    await apiClient(t.url, created.body.token)("GET", "/api/v1/whoami");
    const entry = (await t.api("GET", "/api/v1/tokens")).body.items.find((x: any) => x.id === created.body.id);
    assert.equal(entry.last_used_at, new Date(now).toISOString());
  });

  it("rejects requests without a token, or with a malformed one, as unauthenticated", async () => {
    const anonymous = apiClient(t.url);
    for (const headers of [{}, { authorization: "Bearer nonsense" }, { authorization: "Basic abc" }] as Record<string, string>[]) {
      const response = await anonymous("GET", "/api/v1/services", { headers });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, "unauthenticated");
    }
  });
});

describe("roles", () => {
  it("lets a viewer read but not create services", async () => {
    const viewer = apiClient(t.url, await memberToken("vera", ["viewer"]));
    assert.equal((await viewer("GET", "/api/v1/services")).status, 200);
    const refused = await viewer("POST", "/api/v1/services", { body: { name: "nope", repository_url: "https://git.example.com/n.git" } });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /service:write/);
  });

  it("lets a developer create services and releases but not manage members or tokens of others", async () => {
    const dev = apiClient(t.url, await memberToken("devi", ["developer"]));
    assert.equal((await dev("POST", "/api/v1/services", { body: { name: "devsvc", repository_url: "https://git.example.com/d.git" } })).status, 201);
    assert.equal((await dev("POST", "/api/v1/users", { body: { name: "intruder", roles: ["admin"] } })).status, 403);
    const admin = (await t.api("GET", "/api/v1/whoami")).body.user.id;
    assert.equal((await dev("POST", "/api/v1/tokens", { body: { name: "admin's", user_id: admin } })).status, 403);
    assert.equal((await dev("POST", "/api/v1/tokens", { body: { name: "agent", kind: "agent" } })).status, 403);
  });

  it("gives a user with several roles the union of what they allow", async () => {
    const both = apiClient(t.url, await memberToken("bea", ["approver", "developer"]));
    const me = await both("GET", "/api/v1/whoami");
    assert.deepEqual(me.body.roles, ["approver", "developer"]);
    assert.equal((await both("POST", "/api/v1/services", { body: { name: "beasvc", repository_url: "https://git.example.com/b.git" } })).status, 201);
  });

  it("lets an agent token register hosts and nothing else", async () => {
    const agent = apiClient(t.url, await memberToken("agent-bot", ["viewer"], { kind: "agent" }));
    assert.equal((await agent("POST", "/api/v1/hosts", { body: { name: "h1", address: "127.0.0.2", labels: { region: "eu" } } })).status, 200);
    assert.equal((await agent("GET", "/api/v1/services")).status, 403);
    assert.equal((await agent("POST", "/api/v1/tokens", { body: { name: "more" } })).status, 403);
  });

  it("changes a member's roles and revokes their tokens when they are removed", async () => {
    const token = await memberToken("leaver", ["developer"]);
    const user = (await apiClient(t.url, token)("GET", "/api/v1/whoami")).body.user;
    const updated = await t.api("PATCH", `/api/v1/users/${user.id}`, { body: { roles: ["viewer"] } });
    assert.deepEqual(updated.body.roles, ["viewer"]);
    assert.equal((await t.api("DELETE", `/api/v1/users/${user.id}`)).status, 204);
    assert.equal((await apiClient(t.url, token)("GET", "/api/v1/whoami")).status, 401);
    assert.equal((await t.api("GET", `/api/v1/users/${user.id}`)).status, 404);
  });

  it("refuses adding the same member twice and an unknown role by name", async () => {
    await memberToken("twice", ["viewer"]);
    assert.equal((await t.api("POST", "/api/v1/users", { body: { name: "twice", roles: ["viewer"] } })).status, 409);
    const bad = await t.api("POST", "/api/v1/users", { body: { name: "newbie", roles: ["superuser"] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, "roles.0");
  });
});

describe("tenants", () => {
  it("creates a tenant with a token for its creator, and lists the creator's tenants", async () => {
    const created = await t.api("POST", "/api/v1/tenants", { body: { name: "payments" } });
    assert.equal(created.status, 201);
    const inPayments = apiClient(t.url, created.body.token.token);
    assert.equal((await inPayments("GET", "/api/v1/whoami")).body.tenant.name, "payments");
    const names = (await t.api("GET", "/api/v1/tenants")).body.items.map((x: any) => x.name);
    assert.deepEqual(names, ["default", "payments"]);
    assert.equal((await t.api("POST", "/api/v1/tenants", { body: { name: "payments" } })).status, 409);
  });

  it("lets only a system admin create tenants", async () => {
    const admin = apiClient(t.url, await memberToken("tenant-admin", ["admin"]));
    assert.equal((await admin("POST", "/api/v1/tenants", { body: { name: "rogue" } })).status, 403);
  });
});
