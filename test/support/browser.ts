// What the dashboard's browser tests share: Debian's Chromium, the dashboard built when its
// sources are newer than web/dist, and waiting for an element to show a text (failing with what
// the page showed instead).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Locator } from "playwright-core";
import { WEB_DIST_DIR } from "../../src/server/static.ts";
import { waitFor } from "./wait.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = join(import.meta.dirname, "..", "..");

/** Builds the dashboard when web/dist is missing or older than its sources. */
export function buildDashboard(): void {
  const index = join(WEB_DIST_DIR, "index.html");
  const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(ROOT, "web", "src"))) return;
  const built = spawnSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "web", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(built.status, 0, `npm run build:web failed:\n${built.stdout}${built.stderr}`);
}

/** What a person reads in an element, on one line: its visible text, or for SVG its <text> elements. Runs in the page. */
export function readable(element: Element): string {
  const text = element instanceof HTMLElement ? element.innerText : [...element.querySelectorAll("text")].map((e) => e.textContent).join(" ");
  return text.replace(/\s+/g, " ").trim();
}

/** Waits until the element's text matches; fails with the text it last saw. */
export async function textOf(locator: Locator, pattern: RegExp, what: string, timeoutMs = 15_000): Promise<string> {
  let last = "";
  try {
    return await waitFor(
      async () => {
        last = (await locator.count()) ? await locator.first().evaluate(readable) : "(not on the page)";
        return pattern.test(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 50, what },
    );
  } catch (error) {
    throw new Error(`${what}: expected ${pattern}, the page shows: ${last}`, { cause: error });
  }
}
