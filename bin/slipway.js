#!/usr/bin/env node
// Entry point of the `slipway` command. In the repository it runs the TypeScript sources
// directly (Node 24 strips the types); the published package runs the compiled JavaScript in
// dist/. On an older system Node it hands over to the Node 24 the project installs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
const projectNode = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
if (major < 24 && existsSync(projectNode)) {
  const result = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

const compiled = new URL("../dist/cli/main.js", import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL("../src/cli/main.ts", import.meta.url).href);
