// Repository URLs as users write them and as webhooks send them. One repository has many
// spellings — `git@github.com:acme/shop.git`, `ssh://git@github.com/acme/shop`,
// `https://github.com/Acme/Shop/` — and a webhook must find the service registered with any of
// them. Credentials sometimes sit inside a URL (`https://user:token@host/...`); they are never
// shown in an error or a log line.
import { invalidInput } from "../core/errors.ts";

const SCHEMES = ["http", "https", "ssh", "git", "file"] as const;
const URL_WITH_SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/:]*)(?::(\d*))?(\/.*)?$/i;
// git's own rule for the scp-like form: no "://", and a colon before the first slash.
const SCP_LIKE = /^(?:([^@/:\s]+)@)?([^@/:\s]+):(?!\/\/)(.+)$/;

/** Hides the password (or the token used as a user name over HTTP) in every URL of `text`. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*):\/\/([^\s/@'"]+)@/gi, (_match, scheme: string, userinfo: string) => {
    if (/^https?$/i.test(scheme)) return `${scheme}://***@`;
    const colon = userinfo.indexOf(":");
    return colon === -1 ? `${scheme}://${userinfo}@` : `${scheme}://${userinfo.slice(0, colon)}:***@`;
  });
}

/**
 * Refuses what git should not be handed as a repository: relative paths (relative to what the
 * server happens to run in), option-like strings, `ext::`-style transports that run commands,
 * and schemes other than local paths, file, http(s), ssh and git.
 */
export function assertRepositoryUrl(url: string): void {
  const refuse = (why: string) => {
    throw invalidInput(`repository URL ${JSON.stringify(redactCredentials(url))} ${why}`, [{ field: "repository", message: why }]);
  };
  if (url.length === 0 || url.length > 2048) return refuse("must be 1 to 2048 characters");
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return refuse("must not contain spaces or control characters");
  if (url.startsWith("-")) return refuse("must not start with '-'");
  if (url.startsWith("/")) return;
  const withScheme = URL_WITH_SCHEME.exec(url);
  if (withScheme) {
    const scheme = (withScheme[1] ?? "").toLowerCase();
    if (!(SCHEMES as readonly string[]).includes(scheme)) return refuse(`uses the unsupported scheme '${scheme}' (use a local path, file://, http(s)://, ssh:// or git://)`);
    if (scheme === "file" ? !withScheme[5] : !withScheme[3]) return refuse("has no host");
    return;
  }
  if (url.includes("::")) return refuse("uses a transport helper ('::'), which Slipway does not run");
  if (SCP_LIKE.test(url)) return;
  return refuse("is neither an absolute path nor a URL git can fetch");
}

/**
 * One spelling per repository: `host/owner/repo` for remote ones (scheme, user, port, `.git` and
 * trailing slashes dropped, lower case, as GitHub, GitLab and Gitea treat owner and name
 * case-insensitively) and `file:/abs/path` for local ones (case kept: file systems care).
 * Returns null for what is not a repository URL at all.
 */
export function normalizeRepositoryUrl(url: string): string | null {
  const trimmed = url.trim();
  const clean = (path: string) => path.replace(/\/{2,}/g, "/").replace(/\/+$/, "").replace(/\.git$/i, "").replace(/\/+$/, "");
  if (trimmed.startsWith("/")) return `file:${clean(trimmed)}`;
  const withScheme = URL_WITH_SCHEME.exec(trimmed);
  if (withScheme) {
    const [, scheme = "", , host = "", , path = ""] = withScheme;
    if (scheme.toLowerCase() === "file") return path ? `file:${clean(decodeURIComponentSafe(path))}` : null;
    if (!host) return null;
    return `${host}/${clean(path).replace(/^\//, "")}`.toLowerCase();
  }
  const scp = SCP_LIKE.exec(trimmed);
  if (scp && !trimmed.includes("::")) {
    const [, , host = "", path = ""] = scp;
    return `${host}/${clean(path).replace(/^\//, "")}`.toLowerCase();
  }
  return null;
}

/** True when `serviceRepositoryUrl` names the same repository as one of `pushUrls`. */
export function repositoryMatches(serviceRepositoryUrl: string, pushUrls: readonly string[]): boolean {
  const wanted = normalizeRepositoryUrl(serviceRepositoryUrl);
  if (wanted === null) return false;
  return pushUrls.some((url) => normalizeRepositoryUrl(url) === wanted);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
