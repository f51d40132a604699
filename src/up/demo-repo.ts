// The demo's git repository: <data-dir>/demo-repo, a working repository on branch main that
// Slipway polls like any other (a local path is a repository URL). `slipway up --demo` makes
// three commits to it, and nothing else: the pipeline in its slipway.yaml does the rest.
//
//   step 1  "The demo service, with its pipeline": examples/demo (server.js, its tests,
//           slipway.yaml with this start's port)
//   step 2  "v2: a new greeting": the message GET / answers changes
//   step 3  "v3: a bad release": run.env sets DEMO_ERROR_RATE, so one GET / in five answers 500;
//           its health check passes, and only the production canary's metrics can catch it
//
// Each demo commit carries a `Slipway-Demo: <step>` trailer, so a later start finds the steps
// already made (whatever a person committed in between) and does not make them again.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import { SlipwayError } from "../core/errors.ts";
import { parseSlipwayFile } from "../core/manifest/parse.ts";
import { rolloutFor } from "../core/manifest/schema.ts";
import { gitText } from "../git/exec.ts";

export const DEMO_SOURCE = join(import.meta.dirname, "..", "..", "examples", "demo");
export const DEMO_BRANCH = "main";

const AUTHOR = { name: "Slipway demo", email: "demo@slipway.localhost" };
const TRAILER = "Slipway-Demo";
// What GET / answers before and after step 2, which changes this line of server.js.
export const DEMO_MESSAGES = ["Hello from the Slipway demo", "Hello again from the Slipway demo: v2, shipped by a git push"] as const;
const messageLine = (message: string) => `const MESSAGE = ${JSON.stringify(message)};`;
/** The share of GET / that step 3's release answers 500 (DEMO_ERROR_RATE). */
export const DEMO_BAD_ERROR_RATE = "0.2";

export interface DemoStep {
  step: number;
  /** The commit message's first line. */
  title: string;
  /** Why the commit is made, for the commit message and the terminal. */
  body: string;
  /** What its release should come to in production: live, or rolled back by the canary. */
  expect: "live" | "rolled_back";
  /** Writes the step's files into the working tree; returns the paths to commit. */
  apply(dir: string, options: ManifestOptions): Promise<string[]>;
}

export interface ManifestOptions {
  port: number;
  /** Hosts share 127.0.0.1 and tell the service its port through PORT: use a command health check. */
  sharedAddress: boolean;
}

/**
 * examples/demo/slipway.yaml with this run's port, or, on a shared address, no port and a command
 * health check (the agents then scrape run.metrics on the PORT each host gives its services).
 */
export function demoManifest(text: string, options: ManifestOptions): string {
  const doc = parseDocument(text);
  if (options.sharedAddress) {
    doc.deleteIn(["run", "port"]);
    doc.setIn(["run", "health"], doc.createNode({ command: "node healthcheck.js", interval: "2s", timeout: "2s", start_period: "20s" }));
  } else {
    doc.setIn(["run", "port"], options.port);
  }
  return doc.toString();
}

/** Every file of examples/demo, relative to it (tests included). */
async function sourceFiles(dir = DEMO_SOURCE, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "VERSION" || entry.name.endsWith(".xml")) continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await sourceFiles(join(dir, entry.name), path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    step: 1,
    title: "The demo service, with its pipeline",
    expect: "live",
    body: "server.js, its tests, and a slipway.yaml whose pipeline builds, tests (split across two runners) and packages every push to main.",
    async apply(dir, options) {
      const files = await sourceFiles();
      for (const file of files) {
        const text = await readFile(join(DEMO_SOURCE, file), "utf8");
        await mkdir(dirname(join(dir, file)), { recursive: true });
        await writeFile(join(dir, file), file === "slipway.yaml" ? demoManifest(text, options) : text);
      }
      await writeFile(join(dir, ".gitignore"), "VERSION\njunit.xml\nnode_modules/\n");
      return [...files, ".gitignore"];
    },
  },
  {
    step: 2,
    title: "v2: a new greeting",
    expect: "live",
    body: "GET / answers a new message: a change anyone can see once it is live.",
    async apply(dir) {
      const path = join(dir, "server.js");
      const text = await readFile(path, "utf8");
      const [before, after] = DEMO_MESSAGES;
      if (!text.includes(messageLine(before))) throw new SlipwayError("conflict", `the demo's second commit changes the line '${messageLine(before)}' of ${path}, which is no longer there`);
      await writeFile(path, text.replace(messageLine(before), messageLine(after)));
      return ["server.js"];
    },
  },
  {
    step: 3,
    title: "v3: a bad release",
    body: `run.env sets DEMO_ERROR_RATE: "${DEMO_BAD_ERROR_RATE}" in slipway.yaml: one GET / in five answers 500. Its health check still passes; only the production canary's metrics can tell.`,
    expect: "rolled_back",
    async apply(dir) {
      const path = join(dir, "slipway.yaml");
      const text = await readFile(path, "utf8");
      const production = parseSlipwayFile(text).manifest?.deploy;
      const rollout = production ? rolloutFor(production, "production") : undefined;
      if (rollout?.strategy !== "canary" || !rollout.analysis) {
        throw new SlipwayError("conflict", `the demo's third commit is a bad release for the production canary to catch, but ${path} does not deploy production as a canary with a deploy.analysis (made by an earlier Slipway, or changed since); start with a new --data-dir`);
      }
      const doc = parseDocument(text);
      doc.setIn(["run", "env", "DEMO_ERROR_RATE"], DEMO_BAD_ERROR_RATE);
      await writeFile(path, doc.toString());
      return ["slipway.yaml"];
    },
  },
];

// The person's git configuration (a signing key, hooks, another default branch) must not stop a demo commit.
const git = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) => gitText(["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", ...args], { cwd: dir, env });

/** Creates the repository (empty, on main) unless it exists; says whether it did. */
export async function ensureDemoRepo(dir: string): Promise<boolean> {
  if (existsSync(join(dir, ".git"))) return false;
  await mkdir(dir, { recursive: true });
  await git(dir, ["init", "--quiet", `--initial-branch=${DEMO_BRANCH}`]);
  return true;
}

/** The demo steps already committed on main: step -> sha (empty for a repository without commits). */
export async function committedSteps(dir: string): Promise<Map<number, string>> {
  const steps = new Map<number, string>();
  const head = await git(dir, ["rev-parse", "--verify", "--quiet", `refs/heads/${DEMO_BRANCH}`]).catch(() => "");
  if (!head) return steps;
  const log = await git(dir, ["log", "--format=%H %(trailers:key=" + TRAILER + ",valueonly,separator=%x2C)", DEMO_BRANCH]);
  for (const line of log.split("\n")) {
    const [sha = "", value = ""] = line.trim().split(" ");
    const step = Number(value);
    // The oldest commit of a step wins: log lists newest first.
    if (Number.isInteger(step) && step > 0) steps.set(step, sha);
  }
  return steps;
}

/** Makes `step`'s commit on main; returns its sha. */
export async function commitStep(dir: string, step: DemoStep, options: ManifestOptions): Promise<string> {
  const paths = await step.apply(dir, options);
  await git(dir, ["add", "--", ...paths]);
  const env = { GIT_AUTHOR_NAME: AUTHOR.name, GIT_AUTHOR_EMAIL: AUTHOR.email, GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email };
  // Only the step's own paths: whatever else a person changed in the working tree stays theirs.
  await git(dir, ["commit", "--quiet", "--no-verify", "-m", step.title, "-m", step.body, "-m", `${TRAILER}: ${step.step}`, "--", ...paths], env);
  return git(dir, ["rev-parse", "HEAD"]);
}
