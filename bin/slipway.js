#!/usr/bin/env node
// Entry point of the `slipway` command. In the repository it runs the TypeScript sources
// directly; the published package runs the compiled JavaScript in dist/.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL("../src/cli/main.ts", import.meta.url).href);
