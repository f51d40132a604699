// The version of the release a pipeline makes, from the `package.version` template of slipway.yaml,
// e.g. "1.4.{run_number}" or "{git_describe}". The result is always a version releases accept
// (letters, digits and . _ + -, starting with a letter or digit, at most 128 characters); a
// template that cannot give one is refused when slipway.yaml is read, not when the run ends.
import { invalidInput } from "../errors.ts";

export const VERSION_PLACEHOLDERS = ["run_number", "git_describe", "short_sha", "sha", "branch", "date"] as const;
export type VersionPlaceholder = (typeof VERSION_PLACEHOLDERS)[number];

export interface VersionContext {
  run_number: number;
  /** `git describe --tags --always` of the run's commit; needed only by templates that use it. */
  git_describe?: string | undefined;
  short_sha: string;
  sha: string;
  /** The run's branch; a run without one (a manual run of a bare commit) cannot use {branch}. */
  branch?: string | null | undefined;
  /** When the run started, in ms since the epoch; {date} is its UTC day as YYYYMMDD. */
  date: number;
}

/** What the releases API accepts as a version (see contracts/releases.ts). */
export const RELEASE_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
export const RELEASE_VERSION_MAX_LENGTH = 128;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const isPlaceholder = (name: string): name is VersionPlaceholder => (VERSION_PLACEHOLDERS as readonly string[]).includes(name);
const KNOWN = VERSION_PLACEHOLDERS.map((p) => `{${p}}`).join(", ");

/** The placeholders a template uses, so a caller computes only those (git describe is a process). */
export function placeholdersIn(template: string): VersionPlaceholder[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter(isPlaceholder))];
}

/** Why a template can never give a valid version, or undefined when it can; checked at parse time. */
export function versionTemplateProblem(template: string): string | undefined {
  const sample = { run_number: 1, git_describe: "v1.0.0-1-gabcdef0", short_sha: "abcdef0", sha: "abcdef0".padEnd(40, "0"), branch: "main", date: Date.UTC(2000, 0, 1) };
  return render(template, sample).problem;
}

/** The release version for a run; a clear error when the template or a value cannot give one. */
export function renderVersion(template: string, context: VersionContext): string {
  const { version, problem } = render(template, context);
  if (problem !== undefined) throw invalidInput(problem, [{ field: "package.version", message: problem }]);
  return version;
}

function render(template: string, context: VersionContext): { version: string; problem?: string | undefined } {
  const result = substitute(template, context);
  return typeof result === "string" ? { version: result, problem: versionProblem(result, template) } : { version: "", problem: result.problem };
}

function substitute(template: string, context: VersionContext): string | { problem: string } {
  const stray = template.replace(PLACEHOLDER, "");
  if (/[{}]/.test(stray)) return { problem: `version template '${template}' has an unmatched { or }; placeholders are ${KNOWN}` };
  const unknown = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).find((name) => !isPlaceholder(name));
  if (unknown !== undefined) return { problem: `unknown placeholder {${unknown}} in version template '${template}'; known: ${KNOWN}` };
  let missing: VersionPlaceholder | undefined;
  const rendered = template.replace(PLACEHOLDER, (_, name: VersionPlaceholder) => {
    const value = valueOf(name, context);
    if (value === undefined) missing = name;
    // Branch names hold '/' and other characters a version may not: they become '-'.
    return (value ?? "").replace(/[^A-Za-z0-9._+-]/g, "-");
  });
  if (missing !== undefined) return { problem: `version template '${template}' uses {${missing}}, which this run does not have` };
  return rendered;
}

function valueOf(name: VersionPlaceholder, context: VersionContext): string | undefined {
  switch (name) {
    case "run_number":
      return String(context.run_number);
    case "git_describe":
      return context.git_describe;
    case "short_sha":
      return context.short_sha;
    case "sha":
      return context.sha;
    case "branch":
      return context.branch ?? undefined;
    case "date":
      return new Date(context.date).toISOString().slice(0, 10).replaceAll("-", "");
  }
}

function versionProblem(version: string, template: string): string | undefined {
  if (version.length > RELEASE_VERSION_MAX_LENGTH) return `version template '${template}' gives a version longer than ${RELEASE_VERSION_MAX_LENGTH} characters`;
  if (!RELEASE_VERSION_PATTERN.test(version)) return `version template '${template}' gives '${version}', which is not a release version (letters, digits and . _ + -, starting with a letter or digit)`;
  return undefined;
}
