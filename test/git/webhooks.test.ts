// Real payloads from the providers' documentation (test/fixtures/webhooks), signed here with a
// known secret exactly as each provider signs them: an HMAC over the raw bytes of the body.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repositoryMatches } from "../../src/git/repository-url.ts";
import { verifyAndNormalize, type WebhookOutcome, type WebhookRequest } from "../../src/git/webhooks.ts";

const SECRET = "It's a Secret to Everybody";
const fixture = (name: string) => readFileSync(join(import.meta.dirname, "..", "fixtures", "webhooks", name));
const hex = (body: Buffer, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");
const withBody = (body: Buffer, change: (payload: any) => void) => {
  const payload = JSON.parse(body.toString("utf8"));
  change(payload);
  return Buffer.from(JSON.stringify(payload));
};

function pushOf(outcome: WebhookOutcome) {
  assert.ok(outcome.ok && "push" in outcome, `expected a push, got ${JSON.stringify(outcome)}`);
  return outcome.push;
}
function assertRefused(outcome: WebhookOutcome, reason: RegExp) {
  assert.ok(!outcome.ok && outcome.status === 401, `expected a 401, got ${JSON.stringify(outcome)}`);
  assert.match(outcome.reason, reason);
}
function assertIgnored(outcome: WebhookOutcome, reason: RegExp) {
  assert.ok(outcome.ok && "ignored" in outcome, `expected ignored, got ${JSON.stringify(outcome)}`);
  assert.match(outcome.ignored, reason);
}

describe("GitHub webhooks", () => {
  const body = fixture("github-push.json");
  const github = (rawBody: Buffer, headers: Record<string, string>, secret = SECRET): WebhookOutcome =>
    verifyAndNormalize({ provider: "github", rawBody, secret, headers: { "x-github-event": "push", "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", ...headers } });
  const signed = (rawBody: Buffer) => ({ "x-hub-signature-256": `sha256=${hex(rawBody)}` });

  it("turns a signed push into a PushEvent", () => {
    const push = pushOf(github(body, signed(body)));
    assert.deepEqual(push, {
      provider: "github",
      delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      repository_urls: ["https://github.com/Codertocat/Hello-World.git", "git@github.com:Codertocat/Hello-World.git", "https://github.com/Codertocat/Hello-World", "git://github.com/Codertocat/Hello-World.git"],
      branch: "master",
      before: null,
      after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      commits: [{ sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", message: "Initial commit", author_name: "Codertocat", author_email: "21031067+Codertocat@users.noreply.github.com", timestamp: Date.parse("2019-05-15T15:19:25Z") }],
      total_commits: 1,
      pusher: "Codertocat",
      head_commit: { sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", message: "Initial commit", author_name: "Codertocat", author_email: "21031067+Codertocat@users.noreply.github.com", timestamp: Date.parse("2019-05-15T15:19:25Z") },
    });
    assert.ok(repositoryMatches("git@github.com:codertocat/hello-world.git", push.repository_urls));
  });

  it("reads header names in any case, as Node and proxies deliver them", () => {
    const push = pushOf(verifyAndNormalize({ provider: "github", rawBody: body, secret: SECRET, headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": [`sha256=${hex(body)}`] } }));
    assert.equal(push.branch, "master");
  });

  it("refuses a wrong secret, a missing signature and a tampered body with a 401", () => {
    assertRefused(github(body, { "x-hub-signature-256": `sha256=${hex(body, "another secret")}` }), /X-Hub-Signature-256 does not match the service's webhook secret/);
    assertRefused(github(body, {}), /missing X-Hub-Signature-256/);
    assertRefused(github(body, { "x-hub-signature-256": hex(body) }), /does not match/);
    const tampered = Buffer.from(body.toString("utf8").replace("refs/heads/master", "refs/heads/main"));
    assertRefused(github(tampered, signed(body)), /does not match/);
    assertRefused(github(body, signed(body), ""), /no webhook secret/);
  });

  it("checks the signature before the event, so an unsigned ping is refused too", () => {
    const ping = fixture("github-ping.json");
    assertRefused(github(ping, { "x-github-event": "ping" }), /missing X-Hub-Signature-256/);
    assertIgnored(github(ping, { "x-github-event": "ping", ...signed(ping) }), /^ping$/);
  });

  it("ignores tag pushes, branch deletions and other events", () => {
    const tag = fixture("github-push-tag.json");
    assertIgnored(github(tag, signed(tag)), /tag push \(refs\/tags\/simple-tag\)/);
    const deletion = withBody(body, (p) => {
      p.before = p.after;
      p.after = "0".repeat(40);
      p.deleted = true;
      p.commits = [];
      p.head_commit = null;
    });
    assertIgnored(github(deletion, signed(deletion)), /branch deletion \(master\)/);
    assertIgnored(github(body, { ...signed(body), "x-github-event": "issues" }), /'issues' events are not pushes/);
  });

  it("answers a signed but malformed payload with a 400 naming the field", () => {
    const broken = withBody(body, (p) => {
      delete p.after;
      p.repository.html_url = 42;
    });
    const outcome = github(broken, signed(broken));
    assert.ok(!outcome.ok && outcome.status === 400, JSON.stringify(outcome));
    assert.deepEqual(outcome.details.map((d) => d.field).sort(), ["after", "repository.html_url"]);
    assert.match(outcome.reason, /malformed github push payload: .*after/);

    const notJson = Buffer.from("{not json");
    const garbled = github(notJson, signed(notJson));
    assert.ok(!garbled.ok && garbled.status === 400 && /not JSON/.test(garbled.reason));
    const noEvent = verifyAndNormalize({ provider: "github", rawBody: body, secret: SECRET, headers: signed(body) });
    assert.ok(!noEvent.ok && noEvent.status === 400 && /missing X-GitHub-Event/.test(noEvent.reason));
  });
});

describe("GitLab webhooks", () => {
  const body = fixture("gitlab-push.json");
  const gitlab = (rawBody: Buffer, headers: Record<string, string>, extra: Partial<WebhookRequest> = {}): WebhookOutcome =>
    verifyAndNormalize({ provider: "gitlab", rawBody, secret: SECRET, headers: { "x-gitlab-event": "Push Hook", ...headers }, ...extra });

  it("turns a push with the right token into a PushEvent", () => {
    const push = pushOf(gitlab(body, { "x-gitlab-token": SECRET, "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" }));
    assert.equal(push.provider, "gitlab");
    assert.equal(push.delivery, "13792a34-cac6-4fda-95a8-c58e00a3954e");
    assert.equal(push.branch, "master");
    assert.equal(push.before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
    assert.equal(push.after, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assert.equal(push.pusher, "jsmith");
    assert.equal(push.total_commits, 4, "GitLab lists some commits but counts them all");
    assert.deepEqual(
      push.commits.map((c) => [c.sha.slice(0, 7), c.author_name]),
      [
        ["b6568db", "Jordi Mallach"],
        ["da15608", "GitLab dev user"],
      ],
    );
    assert.equal(push.head_commit?.message, "fixed readme");
    assert.equal(push.commits[0]?.timestamp, Date.parse("2011-12-12T14:27:31+02:00"));
    assert.ok(repositoryMatches("ssh://git@example.com/mike/diaspora", push.repository_urls));
    assert.ok(repositoryMatches("https://example.com/mike/diaspora.git", push.repository_urls));
  });

  it("refuses a wrong or missing token", () => {
    assertRefused(gitlab(body, { "x-gitlab-token": "guess" }), /X-Gitlab-Token does not match/);
    assertRefused(gitlab(body, { "x-gitlab-token": `${SECRET} ` }), /does not match/);
    assertRefused(gitlab(body, {}), /missing X-Gitlab-Token/);
  });

  it("ignores tag pushes and branch deletions", () => {
    const tag = fixture("gitlab-tag-push.json");
    assertIgnored(gitlab(tag, { "x-gitlab-token": SECRET, "x-gitlab-event": "Tag Push Hook" }), /tag push/);
    const deletion = withBody(body, (p) => {
      p.after = "0".repeat(40);
      p.checkout_sha = null;
      p.commits = [];
    });
    assertIgnored(gitlab(deletion, { "x-gitlab-token": SECRET }), /branch deletion \(master\)/);
    assertIgnored(gitlab(body, { "x-gitlab-token": SECRET, "x-gitlab-event": "Merge Request Hook" }), /not pushes/);
  });

  it("accepts a push sent by a system hook, and ignores its other events", () => {
    assert.equal(pushOf(gitlab(body, { "x-gitlab-token": SECRET, "x-gitlab-event": "System Hook" })).branch, "master");
    const other = Buffer.from(JSON.stringify({ event_name: "project_create" }));
    assertIgnored(gitlab(other, { "x-gitlab-token": SECRET, "x-gitlab-event": "System Hook" }), /system hook that is not a push/);
  });

  describe("with a signing token (Standard Webhooks)", () => {
    const signingToken = `whsec_${randomBytes(32).toString("base64")}`;
    const now = Date.UTC(2026, 3, 20, 12, 0, 0);
    const sign = (rawBody: Buffer, id: string, seconds: number, token = signingToken) => {
      const key = Buffer.from(token.slice("whsec_".length), "base64");
      return createHmac("sha256", key).update(`${id}.${seconds}.${rawBody.toString("utf8")}`).digest("base64");
    };
    const signed = (rawBody: Buffer, seconds = now / 1000, signature = `v1,${sign(rawBody, "msg_1", seconds)}`) => ({ "webhook-id": "msg_1", "webhook-timestamp": String(seconds), "webhook-signature": signature });

    it("accepts a delivery signed with the token, among several signatures", () => {
      const other = `v1,${sign(body, "msg_1", now / 1000, `whsec_${randomBytes(32).toString("base64")}`)}`;
      const headers = signed(body, now / 1000, `${other} v1,${sign(body, "msg_1", now / 1000)}`);
      const push = pushOf(gitlab(body, headers, { secret: signingToken, now }));
      assert.equal(push.delivery, "msg_1");
    });

    it("refuses a wrong signature, a tampered body, an old timestamp and the token sent as is", () => {
      assertRefused(gitlab(body, signed(body, now / 1000, `v1,${sign(body, "msg_2", now / 1000)}`), { secret: signingToken, now }), /webhook-signature/);
      assertRefused(gitlab(withBody(body, (p) => (p.ref = "refs/heads/evil")), signed(body), { secret: signingToken, now }), /webhook-signature/);
      const old = now / 1000 - 600;
      assertRefused(gitlab(body, signed(body, old), { secret: signingToken, now }), /more than 5 minutes off/);
      assertRefused(gitlab(body, { "x-gitlab-token": signingToken }, { secret: signingToken, now }), /missing webhook-signature/);
    });
  });
});

describe("Gitea webhooks", () => {
  const body = fixture("gitea-push.json");
  const gitea = (rawBody: Buffer, headers: Record<string, string>): WebhookOutcome =>
    verifyAndNormalize({ provider: "gitea", rawBody, secret: SECRET, headers: { "x-gitea-event": "push", "x-github-event": "push", "x-gitea-delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473", ...headers } });

  it("turns a push signed in X-Gitea-Signature into a PushEvent", () => {
    const push = pushOf(gitea(body, { "x-gitea-signature": hex(body) }));
    assert.deepEqual(
      { ...push, commits: push.commits.length },
      {
        provider: "gitea",
        delivery: "f6266f16-1bf3-46a5-9ea4-602e06ead473",
        repository_urls: ["http://localhost:3000/gitea/webhooks.git", "ssh://gitea@localhost:2222/gitea/webhooks.git", "http://localhost:3000/gitea/webhooks"],
        branch: "develop",
        before: "28e1879d029cb852e4844d9c718537df08844e03",
        after: "bffeb74224043ba2feb48d137756c8a9331c449a",
        commits: 1,
        total_commits: 1,
        pusher: "gitea",
        head_commit: { sha: "bffeb74224043ba2feb48d137756c8a9331c449a", message: "Webhooks Yay!", author_name: "Gitea", author_email: "someone@gitea.io", timestamp: Date.parse("2017-03-13T13:52:11-04:00") },
      },
    );
  });

  it("also accepts the X-Hub-Signature-256 header newer Gitea sends, and Forgejo's headers", () => {
    assert.equal(pushOf(gitea(body, { "x-hub-signature-256": `sha256=${hex(body)}` })).branch, "develop");
    assert.equal(pushOf(gitea(body, { "x-forgejo-signature": hex(body), "x-forgejo-event": "push" })).branch, "develop");
  });

  it("refuses a bad signature even when another header carries a good one", () => {
    assertRefused(gitea(body, { "x-gitea-signature": hex(body, "wrong"), "x-hub-signature-256": `sha256=${hex(body)}` }), /X-Gitea-Signature does not match/);
    assertRefused(gitea(body, {}), /missing X-Gitea-Signature/);
    const tampered = withBody(body, (p) => (p.after = "a".repeat(40)));
    assertRefused(gitea(tampered, { "x-gitea-signature": hex(body) }), /does not match/);
  });

  it("ignores branch creation events, which are not pushes", () => {
    assertIgnored(gitea(body, { "x-gitea-signature": hex(body), "x-gitea-event": "create" }), /'create' events are not pushes/);
  });
});

describe("generic webhooks", () => {
  const generic = (payload: unknown, headers: (body: Buffer) => Record<string, string> = (b) => ({ "x-slipway-signature": `sha256=${hex(b)}` })): WebhookOutcome => {
    const rawBody = Buffer.from(JSON.stringify(payload));
    return verifyAndNormalize({ provider: "generic", rawBody, secret: SECRET, headers: headers(rawBody) });
  };
  const after = "c0ffee".padEnd(40, "0");

  it("accepts Slipway's own payload", () => {
    assert.deepEqual(pushOf(generic({ repository: "https://git.example.com/acme/shop.git", ref: "refs/heads/main", after, pusher: "deploy-bot" })), {
      provider: "generic",
      delivery: null,
      repository_urls: ["https://git.example.com/acme/shop.git"],
      branch: "main",
      before: null,
      after,
      commits: [],
      total_commits: 0,
      pusher: "deploy-bot",
    });
  });

  it("refuses an unsigned one and names a missing field of a signed one", () => {
    assertRefused(generic({ repository: "x", ref: "refs/heads/main", after }, () => ({})), /missing X-Slipway-Signature/);
    const outcome = generic({ ref: "refs/heads/main", after: "not-a-sha" });
    assert.ok(!outcome.ok && outcome.status === 400, JSON.stringify(outcome));
    assert.deepEqual(outcome.details.map((d) => d.field).sort(), ["after", "repository"]);
  });

  it("ignores pings, tags and deletions", () => {
    assertIgnored(generic({}, (b) => ({ "x-slipway-signature": `sha256=${hex(b)}`, "x-slipway-event": "ping" })), /ping/);
    assertIgnored(generic({ repository: "/srv/git/shop.git", ref: "refs/tags/v1", after }), /tag push/);
    assertIgnored(generic({ repository: "/srv/git/shop.git", ref: "refs/heads/main", before: after, after: "0".repeat(40) }), /branch deletion/);
  });
});
