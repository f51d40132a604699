// Reads slipway.yaml: YAML parsed with positions kept, then validated by the zod schema, so
// that every error names the line, the column and the field, and an unknown key gets a
// "did you mean" when a known one is close.
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { z } from "zod";
import { invalidInput, type ErrorDetail } from "../errors.ts";
import { ServiceManifest } from "./schema.ts";

export function parseManifest(text: string, file = "slipway.yaml"): ServiceManifest {
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
  const parsed = ServiceManifest.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, at));
  const first = details[0]!;
  throw invalidInput(`${file} is invalid: ${first.field}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ""}`, details);
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, at: (offset: number) => string): ErrorDetail[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const where = (p: (string | number)[], key?: string) => {
    const node = key === undefined ? doc.getIn(p, true) : findKeyNode(doc, p, key);
    const offset = isNode(node) && node.range ? node.range[0] : nearestOffset(doc, p);
    return `${at(offset)} ${[...p, ...(key === undefined ? [] : [key])].join(".") || "(top level)"}`;
  };
  if (issue.code === "unrecognized_keys") {
    const known = keysAt(ServiceManifest, path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      return { field: where(path, key), message: `unknown key '${key}'${suggestion ? ` (did you mean '${suggestion}'?)` : ""}` };
    });
  }
  return [{ field: where(path), message: issue.message }];
}

function findKeyNode(doc: Document, path: (string | number)[], key: string): unknown {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (parent && typeof parent === "object" && "items" in parent && Array.isArray(parent.items)) {
    for (const pair of parent.items as { key?: { value?: unknown } }[]) if (pair.key?.value === key) return pair.key;
  }
  return undefined;
}

function nearestOffset(doc: Document, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

/** The keys an object schema accepts at `path`, looking through optional, default and records. */
function keysAt(schema: z.ZodType, path: (string | number)[]): string[] {
  let current: unknown = schema;
  for (const step of [...path, null]) {
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) current = current.unwrap();
      else if (current instanceof z.ZodPipe) current = current.in;
      else break;
    }
    if (step === null) break;
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, unknown>)[String(step)];
    else if (current instanceof z.ZodRecord) current = current.valueType;
    else if (current instanceof z.ZodArray) current = current.element;
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** The known key nearest to `word` by edit distance, if it is near enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
