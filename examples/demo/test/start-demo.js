// Starts server.js as its own process on a free port, as a host would (PORT, BIND_ADDRESS and
// the service's environment), and stops it when the test ends.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const SERVER = join(import.meta.dirname, "..", "server.js");

/** The VERSION the pipeline's build job wrote beside server.js, or "dev" without one. */
export function expectedVersion() {
  try {
    return readFileSync(join(import.meta.dirname, "..", "VERSION"), "utf8").trim();
  } catch {
    return "dev";
  }
}

/** Resolves with `{ url, get, stop }` once the server listens; rejects with its stderr if it exits first. */
export function startDemo(t, env = {}) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: "0", BIND_ADDRESS: "127.0.0.1", SLIPWAY_SERVICE: "demo", SLIPWAY_HOST: "test-host", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const stop = () => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM"))));
  t.after(stop);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server.js exited with code ${code}: ${stderr.trim()}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (!url) return;
      const get = (path, init) => fetch(url + path, init);
      resolve({ url, get, stop, line });
    });
  });
}

/** Runs server.js with `env` until it exits by itself; resolves with its exit code and stderr. */
export function runUntilExit(env) {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", BIND_ADDRESS: "127.0.0.1", ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  return new Promise((resolve) => child.once("exit", (code) => (clearTimeout(timer), resolve({ code, stderr }))));
}
