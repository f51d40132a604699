// Turns every error into the API's error body. Our own errors keep their code; validation
// failures name the field; Fastify's client errors keep their status; anything else is a bug,
// logged in full and answered as `internal` without a stack trace.
import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { SlipwayError, httpStatusOf, type ErrorCode, type ErrorDetail } from "../core/errors.ts";

const CONTEXT_PREFIX: Record<string, string> = { body: "", querystring: "query.", params: "path.", headers: "header." };

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return "unauthenticated";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 413) return "payload_too_large";
  return "invalid_input";
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof SlipwayError) {
      if (error.code === "internal") request.log.error({ err: error }, "internal error");
      return reply.status(httpStatusOf(error.code)).send({ error: error.toJSON() });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const prefix = CONTEXT_PREFIX[error.validationContext ?? "body"] ?? "";
      const details: ErrorDetail[] = error.validation.map((v) => ({
        field: prefix + v.instancePath.replace(/^\//, "").replaceAll("/", ".") || (error.validationContext ?? "body"),
        message: v.message ?? "is invalid",
      }));
      const summary = details.map((d) => `${d.field}: ${d.message}`).join("; ");
      return reply.status(400).send({ error: { code: "invalid_input", message: `invalid request: ${summary}`, details } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: codeForStatus(status), message: error.message, details: [] } });
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.status(500).send({ error: { code: "internal", message: `internal error (request ${request.id})`, details: [] } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}`, details: [] } }),
  );
}
