// npm's postinstall: builds the dashboard into web/dist, so that `npm install && npm start`
// serves it. It never fails the install: without the dashboard the server still runs and its
// `/` says how to build it, so a failed build is a warning, not an error.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(fileURLToPath(import.meta.url));
const root = dirname(web);
const vite = join(root, "node_modules", "vite", "bin", "vite.js");
const built = existsSync(join(web, "dist", "index.html"));

function warn(lines) {
  console.warn(["", "WARNING: the Slipway dashboard was not built.", ...lines.map((l) => `  ${l}`), "  The server and API work without it; `/` will say how to build it.", ""].join("\n"));
}

if (!existsSync(vite)) {
  // An install without dev dependencies uses the dashboard it was packaged with, if any.
  if (!built) warn(["vite is not installed (dev dependencies were skipped).", "Install them and run `npm run build:web`."]);
} else {
  const started = Date.now();
  const result = spawnSync(process.execPath, [vite, "build", "web", "--logLevel", "warn"], { cwd: root, encoding: "utf8", timeout: 180_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  if (result.status === 0) {
    console.log(`slipway: dashboard built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    // The error comes first; the stack after it is vite's own.
    const output = `${result.stderr ?? ""}${result.stdout ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").slice(0, 12);
    warn([`\`vite build web\` ${result.error ? `could not run: ${result.error.message}` : `exited with ${result.status ?? result.signal}`}:`, ...output, "Fix the error and run `npm run build:web`."]);
  }
}
