// Push webhooks from GitHub, GitLab, Gitea (and Forgejo) and Slipway's generic format:
// verify that the delivery comes from whoever holds the service's webhook secret, then turn the
// provider's payload into one PushEvent — or say why the delivery starts nothing.
//
// The order matters: the signature is checked on the raw bytes before anything is parsed, so
// an unsigned or tampered delivery gets a 401 and no further attention; only a signed one can
// earn a 400 for a malformed payload.
//
//   provider  authenticity                                              event header
//   github    X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>   X-GitHub-Event: push | ping
//   gitea     X-Gitea-Signature: <hex HMAC> (or X-Forgejo-Signature,       X-Gitea-Event: push
//             or X-Hub-Signature-256 as Gitea 1.20+ also sends)
//   gitlab    X-Gitlab-Token: <secret>, or — when the secret is a signing    X-Gitlab-Event: Push Hook
//             token `whsec_...` — webhook-signature (Standard Webhooks)
//   generic   X-Slipway-Signature: sha256=<hex HMAC-SHA256(secret, body)>    X-Slipway-Event: push (optional)
import type { ErrorDetail } from "../core/errors.ts";
import { GenericPush, GiteaPush, GithubPush, GitlabPush, type PushCommit, type RawPush } from "./webhook-payloads.ts";
import { verifyHexSignature, verifyHubSignature, verifyStandardWebhook, verifyToken } from "./webhook-signatures.ts";

export const WEBHOOK_PROVIDERS = ["github", "gitlab", "gitea", "generic"] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export type { PushCommit };

export interface PushEvent {
  provider: WebhookProvider;
  /** The provider's id for this delivery (X-GitHub-Delivery, ...), to drop redelivered duplicates. */
  delivery: string | null;
  /** Every URL the payload gives for the repository (clone, ssh, web), for `repositoryMatches`. */
  repository_urls: string[];
  branch: string;
  /** The branch's previous head; null for a new branch. */
  before: string | null;
  after: string;
  /** The commits the payload lists (GitLab lists 20 at most; the generic payload none). */
  commits: PushCommit[];
  /** How many commits the push brought, when the provider says; otherwise `commits.length`. */
  total_commits: number;
  pusher: string;
  head_commit?: PushCommit;
}

export type WebhookOutcome =
  | { ok: true; push: PushEvent }
  | { ok: true; ignored: string }
  | { ok: false; status: 401; reason: string }
  | { ok: false; status: 400; reason: string; details: ErrorDetail[] };

export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookRequest {
  provider: WebhookProvider;
  headers: WebhookHeaders;
  rawBody: Buffer;
  /** The service's webhook secret (for GitLab: its secret token, or a `whsec_` signing token). */
  secret: string;
  /** Now, ms since the epoch: GitLab's signed deliveries carry a timestamp that must be recent. */
  now?: number;
}

const ZERO_SHA = /^0+$/;

/** Verifies a webhook delivery and says what it asks for: a push to build, or nothing (and why). */
export function verifyAndNormalize(request: WebhookRequest): WebhookOutcome {
  const header = headerReader(request.headers);
  const refused = authenticate(request, header);
  if (refused !== null) return { ok: false, status: 401, reason: refused };

  const event = eventOf(request.provider, header);
  if (event.kind === "missing") return malformed(`missing ${event.header} header`, event.header);
  if (event.kind === "ignore") return { ok: true, ignored: event.reason };

  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString("utf8"));
  } catch {
    return malformed(`the ${request.provider} webhook body is not JSON`, "body");
  }
  if (event.kind === "system-hook" && !isObject(body, (b) => b.event_name === "push" || b.object_kind === "push")) {
    return { ok: true, ignored: "a GitLab system hook that is not a push" };
  }
  const schema = { github: GithubPush, gitlab: GitlabPush, gitea: GiteaPush, generic: GenericPush }[request.provider];
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({ field: issue.path.join(".") || "body", message: issue.message }));
    const summary = details.map((d) => `${d.field}: ${d.message}`).join("; ");
    return { ok: false, status: 400, reason: `malformed ${request.provider} push payload: ${summary}`, details };
  }
  return toPushEvent(request.provider, deliveryOf(request.provider, header), parsed.data);
}

function toPushEvent(provider: WebhookProvider, delivery: string | null, raw: RawPush): WebhookOutcome {
  if (raw.ref.startsWith("refs/tags/")) return { ok: true, ignored: `tag push (${raw.ref})` };
  if (!raw.ref.startsWith("refs/heads/")) return { ok: true, ignored: `push to ${raw.ref}, which is not a branch` };
  const branch = raw.ref.slice("refs/heads/".length);
  if (ZERO_SHA.test(raw.after)) return { ok: true, ignored: `branch deletion (${branch})` };
  const push: PushEvent = {
    provider,
    delivery,
    repository_urls: raw.repository_urls,
    branch,
    before: raw.before === null || ZERO_SHA.test(raw.before) ? null : raw.before.toLowerCase(),
    after: raw.after.toLowerCase(),
    commits: raw.commits,
    total_commits: raw.total_commits,
    pusher: raw.pusher,
  };
  if (raw.head_commit) push.head_commit = raw.head_commit;
  return { ok: true, push };
}

type HeaderReader = (name: string) => string | undefined;

function headerReader(headers: WebhookHeaders): HeaderReader {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const first = typeof value === "string" ? value : value?.[0];
    if (first !== undefined) lower.set(name.toLowerCase(), first);
  }
  return (name) => lower.get(name.toLowerCase());
}

/** null when the delivery is authentic; otherwise why not. */
function authenticate(request: WebhookRequest, header: HeaderReader): string | null {
  const { provider, secret, rawBody } = request;
  if (secret.length === 0) return "the service has no webhook secret, and unsigned webhooks are refused";
  const check = (name: string, verify: (value: string) => boolean, mismatch = `${name} does not match the service's webhook secret`) => {
    const value = header(name);
    if (value === undefined) return `missing ${name} header`;
    return verify(value) ? null : mismatch;
  };
  switch (provider) {
    case "github":
      return check("X-Hub-Signature-256", (v) => verifyHubSignature(v, secret, rawBody));
    case "generic":
      return check("X-Slipway-Signature", (v) => verifyHubSignature(v, secret, rawBody));
    case "gitea": {
      // The first signature header present decides: a bad one is not rescued by another.
      const name = ["X-Forgejo-Signature", "X-Gitea-Signature", "X-Hub-Signature-256"].find((n) => header(n) !== undefined) ?? "X-Gitea-Signature";
      return check(name, (v) => (name === "X-Hub-Signature-256" ? verifyHubSignature(v, secret, rawBody) : verifyHexSignature(v, secret, rawBody)));
    }
    case "gitlab":
      if (secret.startsWith("whsec_")) {
        const now = request.now ?? Date.now();
        const ids = { id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature") };
        return check("webhook-signature", () => verifyStandardWebhook(ids, secret, rawBody, now), "webhook-signature does not match the service's signing token, or webhook-timestamp is more than 5 minutes off");
      }
      return check("X-Gitlab-Token", (v) => verifyToken(v, secret));
    default:
      return `unknown webhook provider '${String(provider)}'`;
  }
}

type EventKind = { kind: "push" } | { kind: "system-hook" } | { kind: "ignore"; reason: string } | { kind: "missing"; header: string };

function eventOf(provider: WebhookProvider, header: HeaderReader): EventKind {
  const notPush = (name: string): EventKind => ({ kind: "ignore", reason: `'${name}' events are not pushes` });
  switch (provider) {
    case "github": {
      const name = header("X-GitHub-Event");
      if (name === undefined) return { kind: "missing", header: "X-GitHub-Event" };
      if (name === "ping") return { kind: "ignore", reason: "ping" };
      return name === "push" ? { kind: "push" } : notPush(name);
    }
    case "gitlab": {
      const name = header("X-Gitlab-Event");
      if (name === undefined) return { kind: "missing", header: "X-Gitlab-Event" };
      if (name === "Push Hook") return { kind: "push" };
      if (name === "System Hook") return { kind: "system-hook" };
      return name === "Tag Push Hook" ? { kind: "ignore", reason: "tag push" } : notPush(name);
    }
    case "gitea": {
      const name = header("X-Forgejo-Event") ?? header("X-Gitea-Event") ?? header("X-Gogs-Event");
      if (name === undefined) return { kind: "missing", header: "X-Gitea-Event" };
      return name === "push" ? { kind: "push" } : notPush(name);
    }
    case "generic": {
      const name = header("X-Slipway-Event") ?? "push";
      if (name === "ping") return { kind: "ignore", reason: "ping" };
      return name === "push" ? { kind: "push" } : notPush(name);
    }
  }
}

function deliveryOf(provider: WebhookProvider, header: HeaderReader): string | null {
  const names = {
    github: ["X-GitHub-Delivery"],
    gitlab: ["X-Gitlab-Event-UUID", "Idempotency-Key", "webhook-id"],
    gitea: ["X-Forgejo-Delivery", "X-Gitea-Delivery"],
    generic: ["X-Slipway-Delivery"],
  }[provider];
  for (const name of names) {
    const value = header(name);
    if (value) return value.slice(0, 200);
  }
  return null;
}

function malformed(reason: string, field: string): WebhookOutcome {
  return { ok: false, status: 400, reason, details: [{ field, message: reason }] };
}

function isObject(value: unknown, test: (object: Record<string, unknown>) => boolean): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && test(value as Record<string, unknown>);
}
