// Push webhooks from GitHub, GitLab, Gitea (and Forgejo) and a generic sender. They carry no
// bearer token: the signature made with the service's webhook secret is the authentication
// (a bad one is 401 and nothing is queued). A verified push makes Slipway poll the repository
// at once; the poll decides what to build, so a webhook and a poll that see the same push
// start one run, not two.
import { z } from "zod";
import { SlipwayError } from "../../core/errors.ts";
import { WEBHOOK_PROVIDERS, verifyAndNormalize } from "../../git/webhooks.ts";
import { repositoryMatches } from "../../git/repository-url.ts";
import type { AppDeps, TypedApp } from "../app.ts";

const WebhookParams = z.object({ provider: z.enum(WEBHOOK_PROVIDERS), service: z.string().min(1).max(200).describe("the service's id") });
const WebhookAnswer = z.object({ accepted: z.boolean(), message: z.string() });

export async function webhookRoutes(app: TypedApp, deps: AppDeps): Promise<void> {
  const { store: { db }, clock, triggers } = deps;
  // The signature is over the exact bytes sent, so the body is kept raw.
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit: 25 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  app.post("/webhooks/:provider/:service", { schema: { tags: ["webhooks"], params: WebhookParams, response: { 202: WebhookAnswer, 200: WebhookAnswer } } }, async (request, reply) => {
    const service = await db.selectFrom("services").select(["id", "repository_url", "webhook_secret"]).where("id", "=", request.params.service).executeTakeFirst();
    // An unknown service and a wrong signature look the same from outside.
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const outcome = verifyAndNormalize({ provider: request.params.provider, headers: request.headers, rawBody, secret: service?.webhook_secret ?? "", now: clock() });
    if (!service || (!outcome.ok && outcome.status === 401)) throw new SlipwayError("unauthenticated", outcome.ok ? "unknown webhook" : outcome.reason);
    if (!outcome.ok) throw new SlipwayError("invalid_input", outcome.reason, { details: outcome.details });
    if ("ignored" in outcome) return reply.status(200).send({ accepted: false, message: `ignored: ${outcome.ignored}` });
    if (outcome.push.repository_urls.length > 0 && !repositoryMatches(service.repository_url, outcome.push.repository_urls)) {
      return reply.status(200).send({ accepted: false, message: `ignored: the push is for ${outcome.push.repository_urls[0]}, not this service's repository` });
    }
    void triggers?.pollNow(service.id).catch((error: unknown) => request.log.warn({ err: error }, "poll after a webhook failed"));
    return reply.status(202).send({ accepted: true, message: `push to ${outcome.push.branch} (${outcome.push.after.slice(0, 12)}) accepted; the repository is being fetched` });
  });
}
