// Shapes shared by every part of the HTTP API.
import { z } from "zod";

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ field: z.string().optional(), message: z.string() })),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A lower-case name used in URLs and on the command line: `checkout-api`, `production`. */
export const Slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes, starting with a letter or digit");

export const Timestamp = z.iso.datetime().describe("ISO 8601 time, UTC");

export const Labels = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, "label keys are letters, digits and . _ / -"),
  z.string().max(253),
);
export type Labels = z.infer<typeof Labels>;

export const Page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const IdParams = z.object({ id: z.string().min(1).max(200) });

export const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, "must be 64 lower-case hex digits");
