// How each provider proves that a webhook delivery is theirs, checked over the raw bytes of the
// body (re-serialized JSON would not match), before the body is parsed. Every comparison is
// constant-time: both sides are hashed to 32 bytes first, so neither the content nor the length
// of the expected value leaks through timing.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Constant-time string equality, whatever the lengths. */
function safeEqual(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

function hmacSha256Hex(secret: string, body: Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** `X-Hub-Signature-256: sha256=<hex>` (GitHub, Gitea since 1.20, and Slipway's generic hook). */
export function verifyHubSignature(header: string, secret: string, body: Buffer): boolean {
  const value = header.trim();
  if (!value.toLowerCase().startsWith("sha256=")) return false;
  return safeEqual(value.slice(7).toLowerCase(), hmacSha256Hex(secret, body));
}

/** A bare hex HMAC-SHA256 (`X-Gitea-Signature`, `X-Forgejo-Signature`). */
export function verifyHexSignature(header: string, secret: string, body: Buffer): boolean {
  return safeEqual(header.trim().toLowerCase(), hmacSha256Hex(secret, body));
}

/** GitLab's secret token, sent as is in `X-Gitlab-Token`. */
export function verifyToken(header: string, secret: string): boolean {
  return safeEqual(header, secret);
}

const STANDARD_WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/**
 * A Standard Webhooks signature (https://www.standardwebhooks.com), which GitLab sends when the
 * hook has a signing token (`whsec_<base64 key>`): `webhook-signature: v1,<base64>` (several,
 * space-separated, while a key rotates) over `<webhook-id>.<webhook-timestamp>.<body>`. The
 * timestamp must be within five minutes of `now`, so a captured delivery cannot be replayed later.
 */
export function verifyStandardWebhook(headers: { id?: string | undefined; timestamp?: string | undefined; signature?: string | undefined }, signingToken: string, body: Buffer, now: number): boolean {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now - Number(timestamp) * 1000) > STANDARD_WEBHOOK_TOLERANCE_MS) return false;
  const key = Buffer.from(signingToken.replace(/^whsec_/, ""), "base64");
  if (key.length === 0) return false;
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
  let matched = false;
  // Every candidate is compared, so the time taken does not say which one matched.
  for (const candidate of signature.split(" ")) {
    const [version, value] = candidate.split(",");
    if (version === "v1" && value !== undefined && safeEqual(value, expected)) matched = true;
  }
  return matched;
}
