// Services: a git repository and its environments in order.
import { z } from "zod";
import { Labels, Slug, Timestamp } from "./common.ts";

const BranchName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/, "a git branch name");

export const GitRefs = z.strictObject({
  tag: z.boolean().default(false).describe("tag the deployed commit deploy/<environment>/<n>"),
  live_branch: BranchName.optional().describe("moved to the deployed commit"),
  last_live_branch: BranchName.optional().describe("moved to where live_branch was"),
});
export type GitRefs = z.infer<typeof GitRefs>;

export const Environment = z.strictObject({
  name: Slug,
  selector: Labels.default({}).describe("hosts whose labels include all of these"),
  production: z.boolean().optional().describe("deploying here needs the deployer role; defaults to true for 'production' and 'prod'"),
  auto: z.boolean().default(false).describe("deploy automatically: the first environment each new release from a pipeline, a later one each release the environment before it deployed successfully"),
  git_refs: GitRefs.nullable().default(null).describe("refs Slipway pushes to the repository after a successful deployment here"),
});
export type Environment = z.infer<typeof Environment>;

const Environments = z
  .array(Environment)
  .max(20)
  .superRefine((environments, ctx) => {
    const seen = new Set<string>();
    environments.forEach((env, index) => {
      if (seen.has(env.name)) ctx.addIssue({ code: "custom", path: [index, "name"], message: `environment '${env.name}' is listed twice` });
      seen.add(env.name);
    });
  });

export const RepositoryUrl = z
  .string()
  .min(1)
  .max(2000)
  .refine((url) => /^(https?|ssh|git|file):\/\//.test(url) || /^[\w.-]+@[\w.-]+:/.test(url) || url.startsWith("/"), "must be a git URL (https://, ssh://, git@host:path, file://) or an absolute path");

export const Service = z.object({
  id: z.string(),
  name: z.string(),
  repository_url: z.string(),
  environments: z.array(Environment.required()),
  revision: z.number().int().describe("increases with each change; quote it to update"),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Service = z.infer<typeof Service>;

export const ServiceCreate = z.strictObject({
  name: Slug,
  repository_url: RepositoryUrl,
  environments: Environments.default([]),
});
export type ServiceCreate = z.infer<typeof ServiceCreate>;
/** What a client sends: defaults may be left out. */
export type ServiceCreateInput = z.input<typeof ServiceCreate>;
export type EnvironmentInput = z.input<typeof Environment>;

export const ServiceUpdate = z.strictObject({
  revision: z.number().int().describe("the revision this change was made against; a stale one is refused"),
  repository_url: RepositoryUrl.optional(),
  environments: Environments.optional(),
});
export type ServiceUpdate = z.infer<typeof ServiceUpdate>;

export const ServiceParams = z.object({ service: z.string().min(1).max(200).describe("service name or id") });
