// The parts of each provider's push payload Slipway reads, as zod schemas. Objects are loose:
// real payloads carry hundreds of fields Slipway ignores, and providers add more over time.
// Each schema maps its payload onto one shape, `RawPush`, from which webhooks.ts decides what
// the push means.
import { z } from "zod";

const Sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/i, "expected a 40 or 64 character hex commit sha");
const Url = z.string().min(1);

export interface PushCommit {
  sha: string;
  message: string;
  author_name: string;
  author_email: string;
  /** When the commit was authored, ms since the epoch; null when the payload has no usable date. */
  timestamp: number | null;
}

/** A push as a provider describes it, before Slipway decides whether it is one to build. */
export interface RawPush {
  ref: string;
  before: string | null;
  after: string;
  repository_urls: string[];
  pusher: string;
  commits: PushCommit[];
  head_commit: PushCommit | null;
  total_commits: number;
}

const Commit = z
  .looseObject({
    id: Sha,
    message: z.string(),
    timestamp: z.string().optional(),
    author: z.looseObject({ name: z.string(), email: z.string().optional() }),
  })
  .transform(
    (c): PushCommit => ({
      sha: c.id.toLowerCase(),
      message: c.message,
      author_name: c.author.name,
      author_email: c.author.email ?? "",
      timestamp: c.timestamp === undefined || Number.isNaN(Date.parse(c.timestamp)) ? null : Date.parse(c.timestamp),
    }),
  );
const Commits = z
  .array(Commit)
  .nullish()
  .transform((commits) => commits ?? []);

const urls = (...candidates: (string | null | undefined)[]) => [...new Set(candidates.filter((url): url is string => typeof url === "string" && url.length > 0))];

/** GitHub's `push` event. */
export const GithubPush = z
  .looseObject({
    ref: z.string(),
    before: Sha,
    after: Sha,
    repository: z.looseObject({
      html_url: Url,
      clone_url: Url.optional(),
      ssh_url: Url.optional(),
      git_url: Url.optional(),
      svn_url: Url.optional(),
    }),
    pusher: z.looseObject({ name: z.string() }),
    commits: Commits,
    head_commit: Commit.nullish(),
  })
  .transform(
    (p): RawPush => ({
      ref: p.ref,
      before: p.before,
      after: p.after,
      repository_urls: urls(p.repository.clone_url, p.repository.ssh_url, p.repository.html_url, p.repository.git_url, p.repository.svn_url),
      pusher: p.pusher.name,
      commits: p.commits,
      head_commit: p.head_commit ?? null,
      total_commits: p.commits.length,
    }),
  );

/** GitLab's `Push Hook` (also what a system hook sends for a push). */
export const GitlabPush = z
  .looseObject({
    ref: z.string(),
    before: Sha,
    after: Sha,
    checkout_sha: Sha.nullish(),
    user_username: z.string().optional(),
    user_name: z.string().optional(),
    project: z.looseObject({
      web_url: Url,
      git_http_url: Url.optional(),
      git_ssh_url: Url.optional(),
      http_url: Url.optional(),
      ssh_url: Url.optional(),
    }),
    repository: z.looseObject({ url: Url.optional(), git_http_url: Url.optional(), git_ssh_url: Url.optional(), homepage: Url.optional() }).optional(),
    commits: Commits,
    total_commits_count: z.number().int().nonnegative().optional(),
  })
  .transform((p): RawPush => {
    const { project, repository } = p;
    // GitLab lists at most 20 commits, oldest first; the head is the one the ref now points at.
    const head = p.commits.find((c) => c.sha === p.after.toLowerCase()) ?? null;
    return {
      ref: p.ref,
      before: p.before,
      after: p.after,
      repository_urls: urls(project.git_http_url, project.git_ssh_url, project.web_url, project.http_url, project.ssh_url, repository?.url, repository?.git_http_url, repository?.git_ssh_url, repository?.homepage),
      pusher: p.user_username ?? p.user_name ?? "",
      commits: p.commits,
      head_commit: head,
      total_commits: p.total_commits_count ?? p.commits.length,
    };
  });

/** Gitea's (and Forgejo's) `push` event. */
export const GiteaPush = z
  .looseObject({
    ref: z.string(),
    before: Sha,
    after: Sha,
    repository: z.looseObject({ html_url: Url, clone_url: Url.optional(), ssh_url: Url.optional() }),
    pusher: z.looseObject({ login: z.string().optional(), username: z.string().optional(), full_name: z.string().optional() }).nullish(),
    commits: Commits,
    head_commit: Commit.nullish(),
    total_commits: z.number().int().nonnegative().optional(),
  })
  .transform(
    (p): RawPush => ({
      ref: p.ref,
      before: p.before,
      after: p.after,
      repository_urls: urls(p.repository.clone_url, p.repository.ssh_url, p.repository.html_url),
      pusher: p.pusher?.login ?? p.pusher?.username ?? p.pusher?.full_name ?? "",
      commits: p.commits,
      head_commit: p.head_commit ?? p.commits.find((c) => c.sha === p.after.toLowerCase()) ?? null,
      total_commits: p.total_commits ?? p.commits.length,
    }),
  );

/**
 * Slipway's own push payload, for any git server or script that can send a signed POST:
 *
 *   { "repository": "https://git.example.com/acme/shop.git", "ref": "refs/heads/main",
 *     "before": "<sha>" (optional), "after": "<sha>", "pusher": "alice" (optional) }
 *
 * The commits are not in it: Slipway reads them from its mirror of the repository.
 */
export const GenericPush = z
  .object({
    repository: Url,
    ref: z.string(),
    before: Sha.nullish(),
    after: Sha,
    pusher: z.string().max(200).optional(),
  })
  .transform(
    (p): RawPush => ({
      ref: p.ref,
      before: p.before ?? null,
      after: p.after,
      repository_urls: [p.repository],
      pusher: p.pusher ?? "",
      commits: [],
      head_commit: null,
      total_commits: 0,
    }),
  );
