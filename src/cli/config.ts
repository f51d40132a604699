// Where the CLI finds the server and the token. `slipway login` saves both in
// `<config dir>/config.json` (mode 0600, since the token is a secret); for any command,
// SLIPWAY_SERVER / SLIPWAY_TOKEN override the file and --server / --token override both.
// The config dir is $SLIPWAY_CONFIG_DIR, else $XDG_CONFIG_HOME/slipway, else ~/.config/slipway.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { SlipwayError, invalidInput } from "../core/errors.ts";

export interface Connection {
  server: string;
  token: string;
}

/** What a command was given on its command line (commander's global options). */
export interface ConnectionOptions {
  server?: string | undefined;
  token?: string | undefined;
}

const SavedConfig = z.object({ server: z.string().optional(), token: z.string().optional() });
type SavedConfig = z.infer<typeof SavedConfig>;

const Env = z.object({
  SLIPWAY_CONFIG_DIR: z.string().min(1).optional().catch(undefined),
  XDG_CONFIG_HOME: z.string().min(1).optional().catch(undefined),
  SLIPWAY_SERVER: z.string().min(1).optional().catch(undefined),
  SLIPWAY_TOKEN: z.string().min(1).optional().catch(undefined),
});
type Env = z.infer<typeof Env>;

const readEnv = (env: NodeJS.ProcessEnv = process.env): Env => Env.parse(env);

export function configDir(env: Env = readEnv()): string {
  if (env.SLIPWAY_CONFIG_DIR) return env.SLIPWAY_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "slipway");
}

export const configPath = (env: Env = readEnv()): string => join(configDir(env), "config.json");

async function readSavedConfig(path: string): Promise<SavedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new SlipwayError("unavailable", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = SavedConfig.safeParse(json);
  if (!parsed.success) throw invalidInput(`${path} is not a Slipway CLI config; fix it or run \`slipway login\` again`);
  return parsed.data;
}

/** An http(s) URL without a trailing slash; a clear error naming the flag otherwise. */
export function normalizeServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidInput(`'${text}' is not a server URL`, [{ field: "--server", message: "must be an http:// or https:// URL, e.g. http://127.0.0.1:7300" }]);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidInput(`'${text}' is not a server URL`, [{ field: "--server", message: "must be an http:// or https:// URL" }]);
  }
  return url.href.replace(/\/+$/, "");
}

/** The flags, then the environment: used by `login`, which must not fall back to an old login. */
export function explicitConnection(options: ConnectionOptions): Partial<Connection> {
  const env = readEnv();
  return { server: options.server ?? env.SLIPWAY_SERVER, token: options.token ?? env.SLIPWAY_TOKEN };
}

/** The server and token a command talks to: flags, then environment, then the saved login. */
export async function resolveConnection(options: ConnectionOptions): Promise<Connection> {
  const explicit = explicitConnection(options);
  const saved = explicit.server && explicit.token ? {} : await readSavedConfig(configPath());
  const server = explicit.server ?? saved.server;
  const token = explicit.token ?? saved.token;
  if (!server || !token) {
    throw new SlipwayError("unauthenticated", "not logged in: run `slipway login --server URL --token TOKEN` (or set SLIPWAY_SERVER and SLIPWAY_TOKEN)");
  }
  return { server: normalizeServerUrl(server), token };
}

/** Saves the login atomically, readable only by its owner: a crash leaves the old file or the new one. */
export async function saveConnection(connection: Connection): Promise<string> {
  const path = configPath();
  await mkdir(configDir(), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify({ server: connection.server, token: connection.token }, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return path;
}
