// JUnit XML reports -> per-test results. "JUnit XML" is a family of dialects; these are read:
//
//   Node    `node --test --test-reporter=junit`: <testsuites> holding bare <testcase>s (classname
//           "test") and a nested <testsuite> per describe block (classname "outer.inner"); an
//           absolute `file` attribute; failure text also in a `failure` attribute; todo as
//           <skipped type="todo">; a file that fails to load is a failed testcase named after it.
//   jest-junit  <testsuites><testsuite> per file; classname and name both "describe title" by
//           default; `file` only with addFileAttribute; <failure> with the text and no message;
//           a file that fails to load is an <error> testcase "Test suite failed to run".
//   pytest  `--junitxml`: one line; classname is the dotted module (and class), no `file` in the
//           default xunit2 family; setup errors and collection errors (classname "") as <error>.
//   Maven Surefire  one bare <testsuite> per class (TEST-<class>.xml), <properties>, CDATA;
//           with rerunFailingTestsCount a passing test carries <flakyFailure>/<flakyError> and a
//           failing one <rerunFailure>/<rerunError>, counted here as `rerunFailures`.
//
// A test's `id` is stable across runs and unique within a suite: its file (relative to the
// workspace when `root` is given), what the classname adds to it, and its name, joined by "::"
// (`${classname}::${name}` when the report gives no file). The file comes first because Node
// names every top-level test's class "test": two files may share a classname and a test name.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { invalidInput } from "../errors.ts";

export const TEST_STATUSES = ["passed", "failed", "skipped", "error"] as const;
export type TestStatus = (typeof TEST_STATUSES)[number];
export const isFailure = (status: TestStatus) => status === "failed" || status === "error";

export interface TestResult {
  id: string;
  name: string;
  classname?: string;
  /** The test's file, relative to the workspace when the report or `root` allows. */
  file?: string;
  durationMs: number;
  status: TestStatus;
  /** The failure, error or skip message, at most MESSAGE_LIMIT characters. */
  message?: string;
  /** Failed attempts the test tool itself retried before this outcome (Surefire's reruns). */
  rerunFailures?: number;
}

export interface ParseOptions {
  /** The workspace the tests ran in: absolute `file` paths under it become relative. */
  root?: string;
}

export const MESSAGE_LIMIT = 2000;

type Node = Record<string, unknown>;

// Elements that may repeat; attributes are prefixed so that Node's `failure` attribute and
// `<failure>` element, or a testsuite's `skipped` count and `<skipped>`, do not collide.
const REPEATED = new Set(["testsuite", "testcase", "failure", "error", "skipped", "flakyFailure", "flakyError", "rerunFailure", "rerunError"]);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  // Numeric character references (&#10; in Node's messages) are decoded only with this on.
  htmlEntities: true,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
});

/** Parses one JUnit XML report; `source` (its path) names it in errors. */
export function parseJUnit(xml: string, source = "report", options: ParseOptions = {}): TestResult[] {
  const text = xml.replace(/^\uFEFF/, "");
  if (text.trim() === "") throw invalidInput(`${source} is empty: expected a JUnit XML report`, [{ field: source, message: "empty file" }]);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    const at = col === undefined ? `line ${line}` : `line ${line}, column ${col}`;
    throw invalidInput(`${source} is not well-formed XML at ${at}: ${msg}`, [{ field: `${source}:${line}${col === undefined ? "" : `:${col}`}`, message: msg }]);
  }
  const doc = parser.parse(text) as Node;
  const root = asNodes(doc.testsuites)[0] ?? asNodes(doc.testsuite)[0];
  if (!root) {
    const element = Object.keys(doc).find((k) => !k.startsWith("?") && !k.startsWith("@_") && k !== "#text") ?? "nothing";
    throw invalidInput(`${source} is not a JUnit XML report: its root element is <${element}>, not <testsuites> or <testsuite>`);
  }
  const out: TestResult[] = [];
  collect(root, undefined, normalizeRoot(options.root), out);
  return out;
}

function collect(suite: Node, inheritedFile: string | undefined, root: string | undefined, out: TestResult[]): void {
  const suiteFile = attr(suite, "file") ?? inheritedFile;
  for (const testcase of asNodes(suite.testcase)) out.push(toResult(testcase, suiteFile, root));
  for (const child of asNodes(suite.testsuite)) collect(child, suiteFile, root, out);
}

function toResult(testcase: Node, suiteFile: string | undefined, root: string | undefined): TestResult {
  const name = attr(testcase, "name") ?? "(unnamed)";
  const classname = attr(testcase, "classname") || undefined;
  const rawFile = attr(testcase, "file") ?? suiteFile;
  const file = rawFile ? relativePath(rawFile, root) : undefined;
  const errors = asNodes(testcase.error);
  const failures = asNodes(testcase.failure);
  const skipped = asNodes(testcase.skipped);
  const reruns = ["flakyFailure", "flakyError", "rerunFailure", "rerunError"].reduce((n, tag) => n + asNodes(testcase[tag]).length, 0);
  const [status, problem]: [TestStatus, Node | undefined] =
    errors.length > 0 ? ["error", errors[0]] : failures.length > 0 ? ["failed", failures[0]] : skipped.length > 0 ? ["skipped", skipped[0]] : ["passed", undefined];
  const result: TestResult = { id: testId(file, classname, name), name, durationMs: seconds(attr(testcase, "time")), status };
  if (classname !== undefined) result.classname = classname;
  if (file !== undefined) result.file = file;
  const message = problem && messageOf(problem);
  if (message) result.message = message;
  if (reruns > 0) result.rerunFailures = reruns;
  return result;
}

/** The stable id of a test (see the header). */
export function testId(file: string | undefined, classname: string | undefined, name: string): string {
  const scope = classname === undefined ? undefined : scopeBeyondFile(classname, file);
  return [file, scope === name ? undefined : scope, name].filter((part) => part !== undefined && part !== "").join("::");
}

/**
 * What a classname says beyond the file: pytest's "tests.test_x.TestY" for tests/test_x.py
 * says "TestY"; Node's placeholder "test" for top-level tests says nothing.
 */
function scopeBeyondFile(classname: string, file: string | undefined): string | undefined {
  if (file === undefined) return classname;
  if (classname === "test") return undefined;
  const module = file.replace(/\.[^./]+$/, "").replaceAll("/", ".");
  if (classname === module) return undefined;
  return classname.startsWith(`${module}.`) ? classname.slice(module.length + 1) : classname;
}

function messageOf(problem: Node): string | undefined {
  const message = (attr(problem, "message") ?? "").trim();
  const body = text(problem.stackTrace ?? problem).trim();
  // The message first (the summary a dashboard shows), then the details unless they begin with it.
  const full = !message ? body : !body || body.startsWith(message) ? body || message : `${message}\n\n${body}`;
  return full ? full.slice(0, MESSAGE_LIMIT) : undefined;
}

/** JUnit times are seconds, with decimals; some Surefire versions group thousands with commas. */
function seconds(time: string | undefined): number {
  const value = Number((time ?? "").replaceAll(",", ""));
  return time && Number.isFinite(value) && value > 0 ? Math.round(value * 1_000_000) / 1000 : 0;
}

function normalizeRoot(root: string | undefined): string | undefined {
  if (!root) return undefined;
  const normalized = root.replaceAll("\\", "/");
  return normalized.endsWith("/") ? normalized : `${normalized}/`;
}

function relativePath(path: string, root: string | undefined): string {
  let normalized = path.replaceAll("\\", "/");
  if (root && normalized.startsWith(root)) normalized = normalized.slice(root.length);
  while (normalized.startsWith("./")) normalized = normalized.slice(2);
  return normalized;
}

/** An element's occurrences as objects: `<x/>` parses to "", `<x>text</x>` to "text". */
function asNodes(value: unknown): Node[] {
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  return list.map((v) => (typeof v === "object" && v !== null ? (v as Node) : { "#text": String(v) }));
}

function attr(node: Node, name: string): string | undefined {
  const value = node[`@_${name}`];
  return typeof value === "string" ? value : undefined;
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(text).join("\n");
  if (typeof value === "object" && value !== null) return text((value as Node)["#text"] ?? "");
  return "";
}

// ---- from a test back to its file, so that failed tests can be re-run by file ----

const SOURCE_EXTENSION = /\.(?:[cm]?[jt]sx?|py|rb|go|java|kts?|scala|php|rs|exs?|cs|swift|dart|feature)$/;

/** A classname or name that is itself a path, as some reporters write: "src/a.test.ts". */
const looksLikePath = (s: string) => !/\s/.test(s) && (SOURCE_EXTENSION.test(s) || (s.includes("/") && /\.[A-Za-z0-9]{1,5}$/.test(s)));

/**
 * A function from a test result to its test file: the `file` attribute, else a classname or name
 * that is a path. Given the suite's files (as `tests.files` matched them), it also maps dotted
 * classnames (Surefire's "com.example.FooTest", pytest's "tests.test_x.TestY") and absolute
 * paths to the one matching file, and answers only with files of that list when it can.
 */
export function testFileResolver(knownFiles?: Iterable<string>): (result: Pick<TestResult, "file" | "classname" | "name">) => string | undefined {
  const index = knownFiles ? suffixIndex(knownFiles) : undefined;
  const lookup = (key: string) => {
    const found = index?.get(key.replaceAll("\\", "/").replace(/^\.\//, ""));
    return found && found.size === 1 ? [...found][0] : undefined;
  };
  return (result) => {
    const pathLike = [result.file, result.classname, result.name].filter((c): c is string => !!c && (c === result.file || looksLikePath(c)));
    if (!index) return pathLike[0]?.replaceAll("\\", "/");
    for (const candidate of pathLike) {
      const found = lookup(candidate) ?? lookupAbsolute(candidate, lookup);
      if (found) return found;
    }
    for (const dotted of [result.classname, result.name]) {
      if (!dotted || !/^[\w$]+(?:\.[\w$]+)*$/.test(dotted)) continue;
      const parts = dotted.replace(/\$.*$/, "").split(".");
      for (let n = parts.length; n > 0; n--) {
        const found = lookup(`${parts.slice(0, n).join("/")}.*`);
        if (found) return found;
      }
    }
    return result.file;
  };
}

/** The test file of one result (see testFileResolver); build a resolver once for many results. */
export function fileOfTest(result: Pick<TestResult, "file" | "classname" | "name">, knownFiles?: Iterable<string>): string | undefined {
  return testFileResolver(knownFiles)(result);
}

/** How long each test file took: the sum of its tests' durations (results with no file are left out). */
export function timingsByFile(results: Iterable<TestResult>, knownFiles?: Iterable<string>): Map<string, number> {
  const resolve = testFileResolver(knownFiles);
  const timings = new Map<string, number>();
  for (const result of results) {
    const file = resolve(result);
    if (file !== undefined) timings.set(file, (timings.get(file) ?? 0) + result.durationMs);
  }
  return timings;
}

/** Every "/"-bounded suffix of each file, also with its extension as ".*", -> the files it ends. */
function suffixIndex(files: Iterable<string>): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  const add = (key: string, file: string) => {
    const set = index.get(key) ?? new Set<string>();
    set.add(file);
    index.set(key, set);
  };
  for (const raw of files) {
    const file = raw.replaceAll("\\", "/").replace(/^\.\//, "");
    const stem = file.replace(/\.[^./]+$/, ".*");
    const segments = file.split("/");
    for (let i = 0; i < segments.length; i++) {
      add(segments.slice(i).join("/"), file);
      add(stem.split("/").slice(i).join("/"), file);
    }
  }
  return index;
}

/** An absolute path (or one relative to another root) ends with one of the files. */
function lookupAbsolute(path: string, lookup: (key: string) => string | undefined): string | undefined {
  const segments = path.replaceAll("\\", "/").split("/");
  for (let i = 1; i < segments.length; i++) {
    const found = lookup(segments.slice(i).join("/"));
    if (found) return found;
  }
  return undefined;
}
