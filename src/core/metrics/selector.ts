// Prometheus series selectors, as deploy.analysis writes them (see ../analysis/spec.ts):
//
//   demo_requests_total
//   demo_requests_total{status=~"5..",route!="/healthz"}
//   {__name__="demo_requests_total", env="prod"}
//
// Matchers: = (equal), != (not equal), =~ (the regex matches the whole value), !~ (it does not).
// As in Prometheus, a label a series lacks has the value "", so `a=""` matches series without
// `a`. Strings take double quotes, single quotes or backticks (raw), with Go's escapes. Regexes
// are RE2 in Prometheus and JavaScript here: the common syntax is the same, and a leading (?i)
// (case-insensitive) is understood.
//
// The same parsed selector is matched against scraped samples (matchesSelector) and written back
// as PromQL with extra matchers (formatSelector), e.g. to keep only a deployment's hosts.
import { invalidInput } from "../errors.ts";
import type { Labels } from "./exposition.ts";

export const MATCH_OPS = ["=", "!=", "=~", "!~"] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

export interface SeriesSelector {
  /** The metric name (from before the braces or a __name__="..." matcher), when one is fixed. */
  name: string | undefined;
  /** Every other matcher, including any __name__ regex. */
  matchers: Matcher[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses a selector; a clear invalid_input error naming the selector and the column otherwise. */
export function parseSelector(text: string): SeriesSelector {
  const fail = (message: string, at?: number): never => {
    throw invalidInput(`invalid series selector '${text}': ${message}${at === undefined ? "" : ` (at column ${at + 1})`}`);
  };
  const source = text.trim();
  let pos = 0;
  let name: string | undefined = NAME.exec(source)?.[0];
  pos = name?.length ?? 0;
  const matchers: Matcher[] = [];
  const skipBlanks = () => {
    while (/\s/.test(source[pos] ?? "")) pos++;
  };
  skipBlanks();
  if (source[pos] === "{") {
    pos++;
    for (;;) {
      skipBlanks();
      if (source[pos] === "}") {
        pos++;
        break;
      }
      const label = LABEL_NAME.exec(source.slice(pos))?.[0] ?? fail("expected a label name", pos);
      pos += label.length;
      skipBlanks();
      const op = (["=~", "!~", "!=", "="] as const).find((o) => source.startsWith(o, pos)) ?? fail(`expected =, !=, =~ or !~ after ${label}`, pos);
      pos += op.length;
      skipBlanks();
      const read = readString(source, pos) ?? fail(`expected a quoted value for ${label}`, pos);
      if (read.error) fail(read.error, pos);
      pos = read.end;
      if (label === "__name__" && op === "=") {
        if (name !== undefined && name !== read.value) fail(`the name is given twice ('${name}' and '${read.value}')`);
        name = read.value;
      } else {
        if (op === "=~" || op === "!~") compileRegex(read.value, (message) => fail(`the regex for ${label} is invalid: ${message}`));
        matchers.push({ label, op, value: read.value });
      }
      skipBlanks();
      if (source[pos] === ",") pos++;
      else if (source[pos] !== "}") fail("expected , or }", pos);
    }
  }
  skipBlanks();
  if (pos !== source.length) fail(`unexpected '${source.slice(pos, pos + 20)}'`, pos);
  if (name === undefined && !matchers.some((m) => m.label === "__name__")) fail("give a metric name");
  return { name, matchers };
}

/** True when the text is a selector (and not some other PromQL expression). */
export function isSelector(text: string): boolean {
  try {
    parseSelector(text);
    return true;
  } catch {
    return false;
  }
}

interface StringRead {
  value: string;
  end: number;
  error?: string;
}

/** A PromQL string literal at `pos`: "..." or '...' with Go escapes, or `...` (raw). */
function readString(source: string, pos: number): StringRead | undefined {
  const quote = source[pos];
  if (quote !== '"' && quote !== "'" && quote !== "`") return undefined;
  let value = "";
  for (let i = pos + 1; i < source.length; i++) {
    const c = source[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c !== "\\" || quote === "`") {
      value += c;
      continue;
    }
    const next = source[++i];
    const simple: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v" };
    if (next !== undefined && next in simple) value += simple[next];
    else if (next === "u" || next === "x") {
      const digits = next === "u" ? 4 : 2;
      const hex = source.slice(i + 1, i + 1 + digits);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) return { value, end: i, error: `invalid escape \\${next}${hex}` };
      value += String.fromCharCode(parseInt(hex, 16));
      i += digits;
    } else return { value, end: i, error: `invalid escape \\${next ?? ""} in a string` };
  }
  return { value, end: source.length, error: "a string has no closing quote" };
}

const regexCache = new Map<string, RegExp>();

/** Prometheus regexes match the whole value: ^(?:re)$. A leading (?i) makes it case-insensitive. */
function compileRegex(pattern: string, onError: (message: string) => never = (m) => { throw invalidInput(m); }): RegExp {
  const cached = regexCache.get(pattern);
  if (cached) return cached;
  const insensitive = pattern.startsWith("(?i)");
  try {
    const regex = new RegExp(`^(?:${insensitive ? pattern.slice(4) : pattern})$`, insensitive ? "si" : "s");
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, regex);
    return regex;
  } catch (error) {
    return onError((error as Error).message);
  }
}

export function matches(matcher: Matcher, value: string): boolean {
  switch (matcher.op) {
    case "=":
      return value === matcher.value;
    case "!=":
      return value !== matcher.value;
    case "=~":
      return compileRegex(matcher.value).test(value);
    case "!~":
      return !compileRegex(matcher.value).test(value);
  }
}

export function matchesSelector(selector: SeriesSelector, name: string, labels: Labels): boolean {
  if (selector.name !== undefined && selector.name !== name) return false;
  return selector.matchers.every((m) => matches(m, m.label === "__name__" ? name : (labels[m.label] ?? "")));
}

/** The same selector with the metric name replaced (a histogram's `x` -> `x_bucket`). */
export function withName(selector: SeriesSelector, name: string): SeriesSelector {
  return { name, matchers: selector.matchers };
}

/** The same selector with one more matcher. */
export function withMatcher(selector: SeriesSelector, matcher: Matcher): SeriesSelector {
  return { name: selector.name, matchers: [...selector.matchers, matcher] };
}

/** A PromQL string literal: double quotes, with \\, \" and \n escaped. */
export const promqlString = (value: string): string => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;

/** The selector as PromQL text: `name{label="value",...}`. */
export function formatSelector(selector: SeriesSelector): string {
  const matchers = selector.matchers.map((m) => `${m.label}${m.op}${promqlString(m.value)}`);
  if (selector.name === undefined) return `{${matchers.join(",")}}`;
  return matchers.length === 0 ? selector.name : `${selector.name}{${matchers.join(",")}}`;
}

/** Escapes a literal for use inside a regex (a host's address in a host matcher). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
