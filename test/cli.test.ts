// The `slipway` command groups, run as real child processes against a real server (SQLite, or
// PostgreSQL with SLIPWAY_TEST_DATABASE_URL), each with its own config directory.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSlipway, type CliResult } from "./support/cli.ts";
import { startTestServer, type TestServer } from "./support/server.ts";


/** Runs `slipway args...` with its own config dir and none of the caller's SLIPWAY_* variables. */
function slipway(args: string[], options: { configDir: string; env?: Record<string, string> }): Promise<CliResult> {
  return runSlipway(args, { env: { SLIPWAY_CONFIG_DIR: options.configDir, ...options.env } });
}

function succeeded(result: CliResult): CliResult {
  assert.equal(result.code, 0, `slipway failed:\n${result.stderr}`);
  return result;
}

const jsonOf = (result: CliResult): any => JSON.parse(succeeded(result).stdout);

describe("slipway CLI", () => {
  let t: TestServer;
  let work: string;
  /** A config dir logged in as the bootstrap admin of the default tenant. */
  let admin: string;
  const run = (args: string[], env?: Record<string, string>) => slipway(args, { configDir: admin, ...(env ? { env } : {}) });
  const freshDir = () => mkdtemp(join(work, "config-"));

  before(async () => {
    t = await startTestServer();
    work = await mkdtemp(join(tmpdir(), "slipway-cli-"));
    admin = await freshDir();
    succeeded(await slipway(["login", "--server", t.url, "--token", t.adminToken], { configDir: admin }));
  });

  after(async () => {
    await t.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("login checks the token and saves the server and token in a config.json only its owner can read", async () => {
    const dir = await freshDir();
    const who = jsonOf(await slipway(["login", "--server", `${t.url}/`, "--token", t.adminToken, "--json"], { configDir: dir }));
    assert.equal(who.user.name, "admin");
    assert.equal(who.tenant.name, "default");
    const path = join(dir, "config.json");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { server: t.url, token: t.adminToken });
    const human = succeeded(await slipway(["whoami"], { configDir: dir }));
    assert.match(human.stdout, /admin in tenant 'default'/);
  });

  it("login refuses a bad token with a non-zero exit and leaves the saved login unchanged", async () => {
    const before = await readFile(join(admin, "config.json"), "utf8");
    const result = await run(["login", "--server", t.url, "--token", "slw_not-a-real-token"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: the token is unknown, revoked or expired; nothing was saved$/m);
    assert.equal(await readFile(join(admin, "config.json"), "utf8"), before);
  });

  it("tells someone who has not logged in to run slipway login", async () => {
    const result = await slipway(["service", "list"], { configDir: await freshDir() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not logged in: run `slipway login --server URL --token TOKEN`/);
  });

  it("creates a service with environments in order, then lists and shows it as JSON", async () => {
    const created = jsonOf(await run(["service", "create", "checkout", "--repo", "https://git.example.com/checkout.git", "--env", "staging", "--env", "production:role=web,region=eu", "--json"]));
    assert.equal(created.name, "checkout");
    assert.deepEqual(
      created.environments.map((e: any) => [e.name, e.selector, e.production]),
      [
        ["staging", {}, false],
        ["production", { role: "web", region: "eu" }, true],
      ],
    );
    const listed = jsonOf(await run(["service", "list", "--json"]));
    assert.deepEqual(listed.map((s: any) => s.name), ["checkout"]);
    const shown = jsonOf(await run(["service", "show", "checkout", "--json"]));
    assert.deepEqual(shown, created);
    const table = succeeded(await run(["service", "list"]));
    assert.match(table.stdout, /^checkout\s+https:\/\/git\.example\.com\/checkout\.git\s+staging -> production/m);
  });

  it("refuses a malformed service with a non-zero exit that names the field, and creates nothing", async () => {
    const countServices = async () => (await t.api("GET", "/api/v1/services")).body.items.length as number;
    const before = await countServices();
    const result = await run(["service", "create", "Bad_Name", "--repo", "https://git.example.com/x.git"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: invalid request: name: must be lower-case letters/m);
    // The field is named once: in the message, not again as a detail line.
    assert.match(result.stderr, /name: must be lower-case/);
    assert.doesNotMatch(result.stderr, /^ {2}name: /m);
    const asJson = await run(["service", "create", "Bad_Name", "--repo", "https://git.example.com/x.git", "--json"]);
    assert.equal(asJson.code, 1);
    assert.deepEqual(JSON.parse(asJson.stderr).error.details.map((d: any) => d.field), ["name"]);
    assert.equal(await countServices(), before);
  });

  it("release create streams the artifact file up and records the release; the same version again is refused as immutable", async () => {
    succeeded(await run(["service", "create", "billing", "--repo", "git@git.example.com:billing.git"]));
    const file = join(work, "billing.tar.gz");
    const content = randomBytes(300_000);
    await writeFile(file, content);
    const sha256 = createHash("sha256").update(content).digest("hex");

    const release = jsonOf(await run(["release", "create", "billing", "--version", "1.0.0", "--artifact", file, "--git-sha", "abc1234", "--json"]));
    assert.deepEqual([release.service, release.version, release.git_sha, release.artifact_sha256, release.artifact_size], ["billing", "1.0.0", "abc1234", sha256, content.length]);
    const download = await fetch(`${t.url}/api/v1/artifacts/${sha256}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(content), "the server holds exactly the file's bytes");

    const again = await run(["release", "create", "billing", "--version", "1.0.0", "--artifact", file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: release 1\.0\.0 of billing already exists; releases are immutable$/m);

    const next = succeeded(await run(["release", "create", "billing", "--version", "1.0.1", "--artifact", file]));
    assert.match(next.stdout, new RegExp(`Artifact ${sha256} is already on the server; not uploaded again`));
    assert.match(next.stdout, /Created release 1\.0\.1 of billing/);
  });

  it("release create refuses a missing artifact file before sending anything", async () => {
    const result = await run(["release", "create", "billing", "--version", "9.9.9", "--artifact", join(work, "missing.tar.gz")]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot read artifact .*missing\.tar\.gz/);
    assert.match(result.stderr, /--artifact: must be a readable file/);
    assert.equal((await t.api("GET", "/api/v1/services/billing/releases/9.9.9")).status, 404);
  });

  it("release list shows a service's releases, newest first", async () => {
    const releases = jsonOf(await run(["release", "list", "billing", "--json"]));
    assert.deepEqual(releases.map((r: any) => r.version), ["1.0.1", "1.0.0"]);
    const table = succeeded(await run(["release", "list", "billing"])).stdout.split("\n");
    assert.match(table[0] ?? "", /^VERSION\s+GIT SHA\s+ARTIFACT/);
    assert.match(table[1] ?? "", /^1\.0\.1\s/);
    assert.match(table[2] ?? "", /^1\.0\.0\s+abc1234\s/);
  });

  it("token create prints a secret that works; after token revoke the same secret is refused", async () => {
    const created = jsonOf(await run(["token", "create", "ci", "--expires-in-days", "30", "--json"]));
    assert.match(created.token, /^slw_/);
    assert.equal(jsonOf(await run(["whoami", "--json", "--token", created.token])).token.name, "ci");
    const listed = jsonOf(await run(["token", "list", "--json"]));
    assert.equal(listed.find((tok: any) => tok.id === created.id)?.revoked_at, null);
    assert.equal(JSON.stringify(listed).includes(created.token), false, "the secret is never listed");

    succeeded(await run(["token", "revoke", created.id]));
    const refused = await run(["service", "list", "--token", created.token]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the token is unknown, revoked or expired/);
    assert.match(succeeded(await run(["token", "list"])).stdout, new RegExp(`^${created.id}\\s+ci\\s+user\\s.*\\srevoked\\s`, "m"));
  });

  it("tenant create prints a token for the new tenant that works and sees none of the default tenant's services", async () => {
    const result = succeeded(await run(["tenant", "create", "payments"]));
    const token = /^\s+(slw_\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(token, `no token in:\n${result.stdout}`);
    const env = { SLIPWAY_SERVER: t.url, SLIPWAY_TOKEN: token };
    const other = await freshDir();
    assert.equal(jsonOf(await slipway(["whoami", "--json"], { configDir: other, env })).tenant.name, "payments");
    assert.deepEqual(jsonOf(await slipway(["service", "list", "--json"], { configDir: other, env })), []);
    assert.ok(jsonOf(await run(["tenant", "list", "--json"])).some((tenant: any) => tenant.name === "payments"));
  });

  it("hosts lists a host registered through the API with its labels and last heartbeat, and filters by selector", async () => {
    const registered = await t.api("POST", "/api/v1/hosts", { body: { name: "web-1", address: "10.0.0.11", labels: { role: "web", region: "eu" } } });
    assert.equal(registered.status, 200);
    await t.api("POST", "/api/v1/hosts", { body: { name: "db-1", address: "10.0.0.21", labels: { role: "db" } } });

    const table = succeeded(await run(["hosts"])).stdout;
    assert.match(table, /^NAME\s+ADDRESS\s+LABELS\s+LAST HEARTBEAT$/m);
    assert.match(table, /^web-1\s+10\.0\.0\.11\s+role=web,region=eu\s+\d+ s ago$/m);
    const selected = jsonOf(await run(["hosts", "--selector", "role=web", "--json"]));
    assert.deepEqual(selected.map((h: any) => h.name), ["web-1"]);
  });

  it("user create, roles and remove manage a member by name", async () => {
    const created = jsonOf(await run(["user", "create", "dana", "--role", "developer", "--role", "approver", "--email", "dana@example.com", "--json"]));
    assert.deepEqual(created.roles.sort(), ["approver", "developer"]);
    assert.deepEqual(jsonOf(await run(["user", "roles", "dana", "--role", "deployer", "--json"])).roles, ["deployer"]);
    const badRole = await run(["user", "roles", "dana", "--role", "root"]);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /--role: must be one of viewer, developer, deployer, approver, admin/);
    succeeded(await run(["user", "remove", "dana"]));
    assert.deepEqual(jsonOf(await run(["user", "list", "--json"])).map((u: any) => u.name), ["admin"]);
  });
});
