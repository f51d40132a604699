// Real git repositories for tests: create one (working or bare), commit files with a fixed
// author and deterministic dates, push, and serve bare repositories over HTTP with git's own
// `git-http-backend` — so that polling, pipelines and webhooks are tested against git itself.
//
//   const work = await createRepo(join(root, "work"));
//   const sha = await commit(work, { "slipway.yaml": "jobs: ..." }, "first");
//   const remote = await createRepo(join(root, "remote.git"), { bare: true });
//   await runGit(work, "remote", "add", "origin", remote);
//   await runGit(work, "push", "origin", "main");
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gitText } from "../../src/git/exec.ts";

export const TEST_AUTHOR = { name: "Ada Lovelace", email: "ada@example.com" } as const;

// The user's own git configuration (signing, hooks, default branch) must not change a test.
const ISOLATED = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };

/** `git ...args` in `dir` with the user's configuration ignored; stdout without its final newline. */
export function runGit(dir: string, ...args: string[]): Promise<string> {
  return gitText(args, { cwd: dir, env: ISOLATED });
}

/** A fresh temporary folder; remove it with `rm(dir, { recursive: true, force: true })`. */
export function tempDir(prefix = "slipway-git-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** `git init` of `dir` (created if needed) on branch `branch` (default main); returns `dir`. */
export async function createRepo(dir: string, options: { bare?: boolean; branch?: string } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await runGit(dir, "init", "--quiet", `--initial-branch=${options.branch ?? "main"}`, ...(options.bare ? ["--bare"] : []));
  return dir;
}

// Commit dates: one minute apart, from a fixed start, in the order the commits are made, so that
// shas and `git log` orders are the same on every run of a test file.
let clock = Date.UTC(2024, 0, 1) / 1000;

export interface CommitOptions {
  author?: { name: string; email: string };
  /** Author and committer date, seconds since the epoch; default: the next tick of a fixed clock. */
  at?: number;
  allowEmpty?: boolean;
}

/**
 * Writes `files` (path -> content; null deletes the file) in the working repository `dir`,
 * commits everything with `message`, and returns the new commit's sha.
 */
export async function commit(dir: string, files: Record<string, string | null>, message: string, options: CommitOptions = {}): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    if (content === null) {
      await rm(target, { force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
  await runGit(dir, "add", "--all");
  const author = options.author ?? TEST_AUTHOR;
  clock += 60;
  const date = `${options.at ?? clock} +0000`;
  await gitText(["commit", "--quiet", "--no-verify", ...(options.allowEmpty ? ["--allow-empty"] : []), "-m", message], {
    cwd: dir,
    env: {
      ...ISOLATED,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  return headOf(dir);
}

/** The sha `ref` (default HEAD) points at in repository `dir`. */
export function headOf(dir: string, ref = "HEAD"): Promise<string> {
  return runGit(dir, "rev-parse", "--verify", `${ref}^{commit}`);
}

/** A working repository with one commit, pushed to a bare "remote" beside it. */
export async function createRepoWithRemote(root: string, files: Record<string, string> = { "README.md": "hello\n" }): Promise<{ work: string; remote: string; sha: string }> {
  const remote = await createRepo(join(root, "remote.git"), { bare: true });
  const work = await createRepo(join(root, "work"));
  const sha = await commit(work, files, "initial commit");
  await runGit(work, "remote", "add", "origin", remote);
  await runGit(work, "push", "--quiet", "origin", "main");
  return { work, remote, sha };
}

/** Where git keeps `git-http-backend`, or null when this git was installed without it. */
export async function gitHttpBackendPath(): Promise<string | null> {
  const path = join(await gitText(["--exec-path"]), "git-http-backend");
  return existsSync(path) ? path : null;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; a repository `<root>/x.git` is at `${url}/x.git`. */
  url: string;
  /** How many requests were refused for a missing or wrong password. */
  unauthorized(): number;
  close(): Promise<void>;
}

/**
 * Serves the bare repositories under `root` over git's smart HTTP protocol, through
 * `git-http-backend` run as a CGI program, the way Apache or nginx would. With `auth`, requests
 * need that user and password (Basic), and pushes are allowed.
 */
export async function startGitHttpServer(root: string, options: { auth?: { username: string; password: string } } = {}): Promise<GitHttpServer> {
  const backend = await gitHttpBackendPath();
  if (!backend) throw new Error("git-http-backend is not installed");
  let refused = 0;
  const server = createServer((req, res) => {
    const user = options.auth ? authenticatedUser(req, options.auth) : "";
    if (user === null) {
      refused += 1;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="slipway-test"' }).end();
      return;
    }
    runCgi(backend, root, user, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unauthorized: () => refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function authenticatedUser(req: IncomingMessage, auth: { username: string; password: string }): string | null {
  const header = req.headers.authorization ?? "";
  if (!header.startsWith("Basic ")) return null;
  const [username, password] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
  return username === auth.username && password === auth.password ? username : null;
}

function runCgi(backend: string, root: string, user: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const child = spawn(backend, [], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
      ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
      ...(typeof req.headers["git-protocol"] === "string" ? { GIT_PROTOCOL: req.headers["git-protocol"] } : {}),
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      // http-backend accepts pushes only from an authenticated user.
      ...(user ? { REMOTE_USER: user } : {}),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const text = head.toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    if (end === -1) return;
    const separator = /\r?\n\r?\n/.exec(text.slice(end))?.[0].length ?? 2;
    let status = 200;
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    headersSent = true;
    res.write(head.subarray(end + separator));
  });
  child.stdout.on("end", () => {
    if (!headersSent) res.writeHead(502);
    res.end();
  });
}
