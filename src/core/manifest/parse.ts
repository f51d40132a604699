// Reads slipway.yaml: YAML parsed with positions kept, then validated by a zod schema, so that
// every error names the line, the column and the field, and an unknown key gets a "did you
// mean" when a known one is close. The checks across jobs (pipeline/dag.ts) run inside the
// schema, so their errors point at the line too.
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { z } from "zod";
import { invalidInput } from "../errors.ts";
import { pipelineFrom, type Pipeline } from "../pipeline/schema.ts";
import { didYouMean } from "./did-you-mean.ts";
import { ServiceManifest, SlipwayFile, manifestFrom } from "./schema.ts";

/** The runtime part of slipway.yaml, as a release needs it: `run` is required. */
export function parseManifest(text: string, file = "slipway.yaml"): ServiceManifest {
  return parseYaml(ServiceManifest, text, file);
}

export interface ParsedSlipwayFile {
  /** How the service runs, when the file says (it has `run`). */
  manifest?: ServiceManifest;
  /** How the service is built, tested and released, when the file has jobs. */
  pipeline?: Pipeline;
}

/** The whole slipway.yaml: its runtime part, its pipeline, or both. */
export function parseSlipwayFile(text: string, file = "slipway.yaml"): ParsedSlipwayFile {
  const parsed = parseYaml(SlipwayFile, text, file);
  const manifest = manifestFrom(parsed);
  const pipeline = pipelineFrom(parsed);
  return { ...(manifest ? { manifest } : {}), ...(pipeline ? { pipeline } : {}) };
}

/** `text` as YAML validated by `schema`; an invalid_input error naming `file:line:col field` otherwise. */
function parseYaml<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => ({ field: at(e.pos[0]), message: e.message.split("\n")[0] ?? e.message }));
    throw invalidInput(`${file} is not valid YAML: ${details[0]!.message} (${details[0]!.field})`, details);
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  // In the order of the file, so the first error is the first one a reader meets.
  const located = parsed.error.issues.flatMap((issue) => describeIssue(issue, [], { schema, doc }));
  const details = located.sort((a, b) => a.offset - b.offset).map(({ offset, path, message }) => ({ field: `${at(offset)} ${path.join(".") || "(top level)"}`, message }));
  const first = details[0]!;
  throw invalidInput(`${file} is invalid: ${first.field}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ""}`, details);
}

interface IssueContext {
  schema: z.ZodType;
  doc: Document;
}

type Path = (string | number)[];

/** A problem at a field of the file, and where in the text that field is. */
interface Located {
  offset: number;
  path: Path;
  message: string;
}

/** Details of one issue; `prefix` is where a union's member issue sits (its paths are relative). */
function describeIssue(issue: z.core.$ZodIssue, prefix: Path, context: IssueContext): Located[] {
  const { schema, doc } = context;
  const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== "symbol")];
  const locateIn = (at: Path, key?: string) => {
    const node = key === undefined ? doc.getIn(at, true) : findKeyNode(doc, at, key);
    const offset = isNode(node) && node.range ? node.range[0] : nearestOffset(doc, at);
    return { offset, path: key === undefined ? at : [...at, key] };
  };
  const locate = (message: string, key?: string): Located => ({ ...locateIn(path, key), message });
  if (issue.code === "unrecognized_keys") {
    const known = keysAt(schema, path);
    return issue.keys.map((key) => locate(`unknown key '${key}'${didYouMean(key, known)}`, key));
  }
  if (issue.code === "invalid_key") {
    // A bad key of a map (a job id): point at the key itself, with what a key must be.
    const key = path.at(-1);
    const reason = issue.issues.map((i) => i.message).join("; ") || issue.message;
    if (typeof key === "string") return [{ ...locateIn(path.slice(0, -1), key), message: `'${key}' is not a valid key here: ${reason}` }];
  }
  if (issue.code === "invalid_union") {
    // The member that got furthest says what is wrong (`retry: { max: x }` is a bad max, not
    // "neither a number nor an object"); when none got past the type, name the types accepted.
    const deeper = issue.errors.find((member) => member.some((i) => i.code !== "invalid_type" || i.path.length > 0));
    if (deeper) return deeper.flatMap((i) => describeIssue(i, path, context));
    const expected = [...new Set(issue.errors.flat().map((i) => (i.code === "invalid_type" ? i.expected : undefined)).filter((e) => e !== undefined))];
    if (expected.length > 0) return [locate(`expected ${expected.map(article).join(" or ")}`)];
  }
  return [locate(issue.message)];
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function findKeyNode(doc: Document, path: Path, key: string): unknown {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (parent && typeof parent === "object" && "items" in parent && Array.isArray(parent.items)) {
    for (const pair of parent.items as { key?: { value?: unknown } }[]) if (pair.key?.value === key) return pair.key;
  }
  return undefined;
}

function nearestOffset(doc: Document, path: Path): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

/** The schemas a wrapper stands for: optional, default, nullable, a pipe's input, a union's members. */
function unwrap(schema: unknown): unknown[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodNullable) return unwrap(schema.unwrap());
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  if (schema instanceof z.ZodUnion) return (schema.options as unknown[]).flatMap(unwrap);
  return [schema];
}

/** The keys the object schemas at `path` accept, looking through wrappers, unions, records and arrays. */
export function keysAt(schema: z.ZodType, path: Path): string[] {
  let current = unwrap(schema);
  for (const step of path) {
    current = current.flatMap((s) => {
      if (s instanceof z.ZodObject) return typeof step === "string" && step in s.shape ? unwrap(s.shape[step]) : [];
      if (s instanceof z.ZodRecord) return unwrap(s.valueType);
      if (s instanceof z.ZodArray && typeof step === "number") return unwrap(s.element);
      return [];
    });
  }
  return [...new Set(current.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : [])))];
}
