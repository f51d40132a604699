// When a pipeline runs: which pushed branches start a run, and when a schedule fires next.
//
// Branch patterns are globs as in GitHub Actions: `*` matches within one path segment (it does
// not cross `/`), `**` matches across segments, `?` is one character other than `/`, anything
// else matches itself. A pattern starting with `!` excludes; patterns are read in order and the
// last one that matches a branch decides, so `["release/**", "!release/old/**"]` works.
//
// Schedules are five-field cron expressions (minute hour day-of-month month day-of-week, or a
// nickname such as @daily), read in a time zone (UTC unless the schedule names one).
import { Cron } from "croner";
import type { Triggers } from "./schema.ts";

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      // `**/` also matches no segment at all, so `release/**/fix` matches `release/fix`.
      if (glob[i + 2] === "/") [source, i] = [source + "(?:.*/)?", i + 2];
      else [source, i] = [source + ".*", i + 1];
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Whether `branch` matches the patterns; the last matching pattern decides (a `!` one excludes). */
export function branchMatches(patterns: readonly string[], branch: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(branch)) matched = !negated;
  }
  return matched;
}

/** Whether a push to `branch` starts a run. */
export function matchesPush(triggers: Triggers, branch: string): boolean {
  return triggers.push !== null && branchMatches(triggers.push.branches, branch);
}

function cronOf(expression: string, timeZone: string): Cron {
  return new Cron(expression, { mode: "5-part", timezone: timeZone });
}

/** Why a cron expression is refused, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  try {
    cronOf(expression, "UTC");
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, "");
    return `'${expression}' is not a cron expression (${reason}); write five fields, minute hour day-of-month month day-of-week, e.g. "0 3 * * *", or @hourly, @daily, @weekly`;
  }
}

/** Why a time zone is refused, or undefined when it is a valid IANA name such as Europe/Paris. */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return undefined;
  } catch {
    return `'${timeZone}' is not a time zone; use an IANA name such as UTC or Europe/Paris`;
  }
}

/** The first time strictly after `afterMs` when the schedule fires, in ms; undefined if never. */
export function nextCronTime(expression: string, afterMs: number, timeZone = "UTC"): number | undefined {
  return cronOf(expression, timeZone).nextRun(new Date(afterMs))?.getTime();
}
