// The Prometheus text exposition format (version 0.0.4, what every client library serves at
// /metrics), parsed into flat samples:
//
//   # HELP http_requests_total Requests answered.\nBy route.     (\\ and \n escaped)
//   # TYPE http_requests_total counter
//   http_requests_total{route="/",status="200"} 1027 1395066363000
//   latency_seconds_bucket{le="0.5"} 24054                         (histogram buckets stay samples;
//   latency_seconds_bucket{le="+Inf"} 144320                        series.ts groups them by `le`)
//   temperature NaN
//
// A sample line is a name, optional labels (values escape \\, \" and \n), a value (a float, NaN,
// +Inf or -Inf) and an optional timestamp in milliseconds. What OpenMetrics adds is tolerated: a
// `# EOF` line, exemplars after a ` # `, and timestamps in (fractional) seconds.
//
// A malformed line is reported with its number and skipped, so that one bad line of a service's
// output does not hide the rest of its metrics; the caller decides what a problem means.
// (The npm package parse-prometheus-text-format was considered: it has no types, turns values
// into strings, drops timestamps and throws on the first bad line.)

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch, when the exposition gave one. */
  timestamp?: number;
}

export const METRIC_TYPES = ["counter", "gauge", "histogram", "summary", "untyped", "unknown", "info", "stateset", "gaugehistogram"] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export interface ExpositionProblem {
  line: number;
  message: string;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, MetricType>;
  help: Map<string, string>;
  /** Lines that could not be read (at most MAX_PROBLEMS are kept). */
  problems: ExpositionProblem[];
}

const MAX_PROBLEMS = 100;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A float as the exposition format writes it: decimal, NaN, +Inf, -Inf (Go's ParseFloat spellings). */
export function parseFloatValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  switch (text.toLowerCase()) {
    case "nan":
      return Number.NaN;
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Number.POSITIVE_INFINITY;
    case "-inf":
    case "-infinity":
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}

export function parseExposition(text: string): Exposition {
  const result: Exposition = { samples: [], types: new Map(), help: new Map(), problems: [] };
  const seen = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "").trimStart();
    if (line === "") continue;
    try {
      if (line.startsWith("#")) {
        readComment(line, result);
        continue;
      }
      const sample = readSample(line);
      const key = seriesKey(sample.name, sample.labels);
      if (seen.has(key)) throw new Error(`the series ${key} appears twice`);
      seen.add(key);
      result.samples.push(sample);
    } catch (error) {
      if (result.problems.length < MAX_PROBLEMS) result.problems.push({ line: i + 1, message: (error as Error).message });
    }
  }
  return result;
}

function readComment(line: string, into: Exposition): void {
  const match = /^#\s*(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) return; // a plain comment, or OpenMetrics' # EOF / # UNIT
  const [, keyword, name = "", rest = ""] = match;
  if (NAME.exec(name)?.[0] !== name) throw new Error(`'${name}' is not a metric name`);
  if (keyword === "HELP") {
    into.help.set(name, unescape(rest, false));
    return;
  }
  const type = rest.trim().toLowerCase();
  if (!(METRIC_TYPES as readonly string[]).includes(type)) throw new Error(`unknown metric type '${rest.trim()}' for ${name}`);
  into.types.set(name, type as MetricType);
}

function readSample(line: string): Sample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new Error(`expected a metric name at '${line.slice(0, 40)}'`);
  const name = nameMatch[0];
  let pos = name.length;
  let labels: Labels = {};
  if (line[pos] === "{") {
    const read = readLabels(line, pos + 1);
    labels = read.labels;
    pos = read.end;
  }
  // After the labels: value, optional timestamp, optional OpenMetrics exemplar (" # {...} v").
  const rest = line.slice(pos);
  if (rest !== "" && !/^[ \t]/.test(rest)) throw new Error(`expected a space after ${name}'s ${pos > name.length ? "labels" : "name"}`);
  const exemplar = rest.indexOf(" #");
  const tokens = (exemplar >= 0 ? rest.slice(0, exemplar) : rest).trim().split(/[ \t]+/).filter((t) => t !== "");
  if (tokens.length === 0) throw new Error(`${name} has no value`);
  if (tokens.length > 2) throw new Error(`${name}: unexpected '${tokens[2]}' after the value and timestamp`);
  const value = parseFloatValue(tokens[0]!);
  if (value === undefined) throw new Error(`${name}: '${tokens[0]}' is not a number`);
  const sample: Sample = { name, labels, value };
  if (tokens[1] !== undefined) sample.timestamp = parseTimestamp(name, tokens[1]);
  return sample;
}

function parseTimestamp(name: string, text: string): number {
  if (/^-?\d+$/.test(text)) return Number(text);
  // OpenMetrics writes seconds, possibly fractional.
  if (FLOAT.test(text)) return Math.round(Number(text) * 1000);
  throw new Error(`${name}: '${text}' is not a timestamp`);
}

/** Reads `a="x",b="y"}` from `start` (just after the brace); returns the labels and the index after `}`. */
function readLabels(line: string, start: number): { labels: Labels; end: number } {
  const labels: Labels = {};
  let pos = start;
  const skipBlanks = () => {
    while (line[pos] === " " || line[pos] === "\t") pos++;
  };
  for (;;) {
    skipBlanks();
    if (line[pos] === "}") return { labels, end: pos + 1 };
    const nameMatch = LABEL_NAME.exec(line.slice(pos));
    if (!nameMatch) throw new Error(`expected a label name or } at column ${pos + 1}`);
    const label = nameMatch[0];
    pos += label.length;
    skipBlanks();
    if (line[pos] !== "=") throw new Error(`expected = after the label ${label}`);
    pos++;
    skipBlanks();
    if (line[pos] !== '"') throw new Error(`the value of the label ${label} must be in double quotes`);
    const end = closingQuote(line, pos + 1);
    if (end < 0) throw new Error(`the value of the label ${label} has no closing quote`);
    if (label in labels) throw new Error(`the label ${label} is given twice`);
    labels[label] = unescape(line.slice(pos + 1, end), true);
    pos = end + 1;
    skipBlanks();
    if (line[pos] === ",") pos++;
    else if (line[pos] !== "}") throw new Error(`expected , or } after the label ${label}`);
  }
}

function closingQuote(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === '"') return i;
  }
  return -1;
}

/** \\ and \n (and \" in label values); any other escape is an error, as in Prometheus. */
function unescape(text: string, quoted: boolean): string {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else if (next === '"' && quoted) out += '"';
    else if (!quoted) out += `\\${next ?? ""}`; // HELP text keeps other backslashes as they are
    else throw new Error(`invalid escape \\${next ?? ""} in a label value`);
  }
  return out;
}

/** One text per series: the name and the labels sorted by name, as Prometheus prints them. */
export function seriesKey(name: string, labels: Labels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((l) => `${l}=${JSON.stringify(labels[l])}`).join(",")}}`;
}

/** A histogram bucket's bound from its `le` label ("+Inf" included); undefined when it is not one. */
export function bucketBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  const bound = parseFloatValue(le.trim());
  return bound === undefined || Number.isNaN(bound) ? undefined : bound;
}

// ---- the compact form agents send and the store keeps: [name, labels, value] ----

/** JSON has no NaN or infinities: they travel as these strings. */
export type WireValue = number | "NaN" | "+Inf" | "-Inf";
export type WireSample = [name: string, labels: Labels, value: WireValue];

export function toWire(samples: readonly Sample[]): WireSample[] {
  return samples.map((s) => [s.name, s.labels, Number.isNaN(s.value) ? "NaN" : s.value === Infinity ? "+Inf" : s.value === -Infinity ? "-Inf" : s.value]);
}

export function fromWire(wire: readonly WireSample[]): Sample[] {
  return wire.map(([name, labels, value]) => ({ name, labels, value: typeof value === "number" ? value : value === "NaN" ? Number.NaN : value === "+Inf" ? Infinity : -Infinity }));
}
