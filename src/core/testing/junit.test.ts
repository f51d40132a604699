import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SlipwayError } from "../errors.ts";
import { fileOfTest, MESSAGE_LIMIT, parseJUnit, testFileResolver, timingsByFile, type TestResult } from "./junit.ts";

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/junit/${name}`, import.meta.url), "utf8");
const byId = (results: TestResult[]) => new Map(results.map((r) => [r.id, r]));
const summary = (results: TestResult[]) => results.map((r) => `${r.status} ${r.id}`).sort();

function parseError(xml: string, source?: string): SlipwayError {
  try {
    parseJUnit(xml, source);
  } catch (error) {
    assert.ok(error instanceof SlipwayError);
    return error;
  }
  assert.fail("expected an error");
}

describe("parseJUnit", () => {
  it("reads node --test's junit reporter: bare testcases, nested describes, todo, a file that fails to load", () => {
    const results = parseJUnit(fixture("node-test.xml"), "junit.xml", { root: "/tmp/slipway-job" });
    assert.deepEqual(summary(results), [
      "failed test/api/users.test.mjs::users API.GET /users/:id::answers 404 for an unknown id",
      "failed test/broken.test.mjs::test/broken.test.mjs",
      "failed test/math.test.mjs::rounds <half> & up",
      "passed test/api/users.test.mjs::users API.GET /users/:id::returns the user",
      "passed test/api/users.test.mjs::users API::lists users",
      "passed test/math.test.mjs::adds two numbers",
      "skipped test/math.test.mjs::divides by zero",
      "skipped test/math.test.mjs::handles big numbers",
    ]);
    const tests = byId(results);
    const rounding = tests.get("test/math.test.mjs::rounds <half> & up")!;
    assert.equal(rounding.classname, "test");
    assert.equal(rounding.file, "test/math.test.mjs");
    assert.equal(rounding.durationMs, 1.333);
    assert.match(rounding.message!, /banker's rounding\?\n\n3 !== 2/);
    assert.match(rounding.message!, /math\.test\.mjs:4:43/, "the stack with the test's line");
    assert.equal(tests.get("test/math.test.mjs::handles big numbers")!.message, "needs BigInt support");
    assert.equal(tests.get("test/api/users.test.mjs::users API.GET /users/:id::returns the user")!.durationMs, 31.523);
  });

  it("keeps absolute file paths when no root is given", () => {
    const files = new Set(parseJUnit(fixture("node-test.xml")).map((r) => r.file));
    assert.deepEqual([...files].sort(), ["/tmp/slipway-job/test/api/users.test.mjs", "/tmp/slipway-job/test/broken.test.mjs", "/tmp/slipway-job/test/math.test.mjs"]);
  });

  it("reads jest-junit: a suite per describe, failure text without a message, a suite that failed to run", () => {
    const results = parseJUnit(fixture("jest-junit.xml"), "junit.xml");
    assert.equal(results.length, 7);
    const tests = byId(results);
    const total = tests.get("src/cart/cart.test.ts::Cart totals <discounted> items")!;
    assert.equal(total.status, "failed");
    assert.equal(total.durationMs, 12);
    assert.match(total.message!, /^Error: expect\(received\)\.toBe\(expected\)[^]*Expected: 90\nReceived: 100[^]*new Promise \(<anonymous>\)/);
    assert.equal(tests.get("src/cart/cart.test.ts::Cart applies a coupon twice")!.status, "skipped");
    const crashed = tests.get("src/api/client.test.ts::Test suite failed to run::src/api/client.test.ts")!;
    assert.equal(crashed.status, "error");
    assert.match(crashed.message!, /Cannot find module '\.\/transport'/);
  });

  it("reads pytest's --junitxml: dotted classnames, parameters, xfail, setup and collection errors", () => {
    const results = parseJUnit(fixture("pytest.xml"), "report.xml");
    assert.deepEqual(summary(results), [
      "error tests.db.test_orders::test_cancel_order",
      "error tests.test_legacy",
      "failed tests.test_pricing.TestDiscount::test_rounding[0.15-15]",
      "passed test_smoke::test_import",
      "passed tests.db.test_orders::test_create_order",
      "passed tests.test_pricing.TestDiscount::test_percentage",
      "passed tests.test_pricing.TestDiscount::test_rounding[0.1-10]",
      "skipped tests.test_pricing::test_currency_symbol",
      "skipped tests.test_pricing::test_negative_prices",
    ]);
    const tests = byId(results);
    const rounding = tests.get("tests.test_pricing.TestDiscount::test_rounding[0.15-15]")!;
    assert.match(rounding.message!, /^assert 14\.999999999999998 == 15\n\nself = <tests\.test_pricing/);
    assert.equal(tests.get("tests.db.test_orders::test_create_order")!.durationMs, 1734);
    assert.equal(tests.get("tests.test_legacy")!.classname, undefined, "pytest writes classname=\"\" for a module that fails to import");
    assert.match(tests.get("tests.db.test_orders::test_cancel_order")!.message!, /^failed on setup with "psycopg\.OperationalError/);
  });

  it("names pytest tests by file when the xunit1 family writes one", () => {
    const xml = `<testsuite name="pytest" tests="2"><testcase classname="tests.test_x.TestY" name="test_a" file="tests/test_x.py" line="4" time="0.010"/><testcase classname="tests.test_x" name="test_b" file="tests/test_x.py" line="9" time="0.020"/></testsuite>`;
    assert.deepEqual(
      parseJUnit(xml).map((r) => r.id),
      ["tests/test_x.py::TestY::test_a", "tests/test_x.py::test_b"],
    );
  });

  it("reads Maven Surefire: a bare testsuite with properties, reruns counted, errors kept apart from failures", () => {
    const results = parseJUnit(fixture("TEST-com.example.checkout.CartServiceTest.xml"), "target/surefire-reports/TEST-com.example.checkout.CartServiceTest.xml");
    const tests = byId(results);
    const id = (name: string) => `com.example.checkout.CartServiceTest::${name}`;
    assert.equal(results.length, 6);
    assert.deepEqual(
      { status: tests.get(id("appliesDiscountCode"))!.status, reruns: tests.get(id("appliesDiscountCode"))!.rerunFailures, ms: tests.get(id("appliesDiscountCode"))!.durationMs },
      { status: "passed", reruns: 1, ms: 913 },
    );
    const negative = tests.get(id("rejectsNegativeQuantity"))!;
    assert.equal(negative.status, "failed");
    assert.equal(negative.rerunFailures, 2);
    assert.match(negative.message!, /^Expected java\.lang\.IllegalArgumentException to be thrown, but nothing was thrown\.\n\norg\.opentest4j\.AssertionFailedError: Expected/);
    assert.equal(tests.get(id("loadsSavedCart"))!.status, "error");
    assert.match(tests.get(id("loadsSavedCart"))!.message!, /^Connection refused: localhost\/127\.0\.0\.1:5432\n\norg\.postgresql/);
    assert.equal(tests.get(id("mergesGuestCart"))!.status, "skipped");
    assert.ok(tests.has("com.example.checkout.CartServiceTest$Shipping::computesShipping()"));
  });

  it("takes missing, empty or odd times as zero and reads thousands separators", () => {
    const xml = `<testsuite><testcase classname="A" name="a"/><testcase classname="A" name="b" time=""/><testcase classname="A" name="c" time="1,234.5"/><testcase classname="A" name="d" time="-1"/><testcase classname="A" name="e" time="n/a"/></testsuite>`;
    assert.deepEqual(
      parseJUnit(xml).map((r) => r.durationMs),
      [0, 0, 1_234_500, 0, 0],
    );
  });

  it("reads an empty suite, a byte order mark and a file attribute given on the suite", () => {
    assert.deepEqual(parseJUnit(`<?xml version="1.0"?>\n<testsuites/>`), []);
    const results = parseJUnit(`\uFEFF<testsuites><testsuite name="x" file="spec/a_spec.rb"><testcase name="works" classname="A"/></testsuite></testsuites>`);
    assert.deepEqual(results[0], { id: "spec/a_spec.rb::A::works", name: "works", classname: "A", file: "spec/a_spec.rb", durationMs: 0, status: "passed" });
  });

  it("keeps the first 2,000 characters of a long failure", () => {
    const xml = `<testsuite><testcase classname="A" name="a"><failure message="boom">${"x".repeat(5000)}</failure></testcase></testsuite>`;
    const [result] = parseJUnit(xml);
    assert.equal(result!.message!.length, MESSAGE_LIMIT);
    assert.ok(result!.message!.startsWith("boom\n\nxxx"));
  });

  it("names the source, the line and the column of malformed XML", () => {
    const error = parseError(`<testsuite>\n  <testcase name="a" time=0.1/>\n</testsuite>`, "shard-2/junit.xml");
    assert.equal(error.code, "invalid_input");
    assert.match(error.message, /^shard-2\/junit\.xml is not well-formed XML at line 2, column \d+: Attribute 'time' is without value/);
    assert.match(error.details[0]!.field!, /^shard-2\/junit\.xml:2:\d+$/);
    assert.match(parseError(`<testsuites><testsuite></testsuites>`, "r.xml").message, /^r\.xml is not well-formed XML at line 1/);
  });

  it("refuses an empty file and XML that is not a JUnit report", () => {
    assert.match(parseError("  \n", "junit.xml").message, /^junit\.xml is empty/);
    assert.match(parseError(`<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion></project>`, "pom.xml").message, /^pom\.xml is not a JUnit XML report: its root element is <project>/);
  });
});

describe("fileOfTest", () => {
  const known = ["src/test/java/com/example/checkout/CartServiceTest.java", "tests/test_pricing.py", "tests/test_legacy.py", "tests/db/test_orders.py", "test/math.test.mjs", "src/api/client.test.ts"];

  it("uses the file attribute, and finds the known file an absolute path ends with", () => {
    assert.equal(fileOfTest({ name: "a", file: "test/math.test.mjs" }), "test/math.test.mjs");
    assert.equal(fileOfTest({ name: "a", file: "/home/ci/ws/test/math.test.mjs" }, known), "test/math.test.mjs");
  });

  it("takes a classname or name that is a path", () => {
    assert.equal(fileOfTest({ name: "renders", classname: "src/components/Button.test.tsx" }), "src/components/Button.test.tsx");
    assert.equal(fileOfTest({ name: "src/api/client.test.ts", classname: "Test suite failed to run" }, known), "src/api/client.test.ts");
    assert.equal(fileOfTest({ name: "works", classname: "GET /users/:id returns 200" }), undefined);
  });

  it("maps dotted classnames to a known file: Surefire classes, nested classes, pytest modules and classes", () => {
    assert.equal(fileOfTest({ name: "x", classname: "com.example.checkout.CartServiceTest" }, known), known[0]);
    assert.equal(fileOfTest({ name: "x", classname: "com.example.checkout.CartServiceTest$Shipping" }, known), known[0]);
    assert.equal(fileOfTest({ name: "test_rounding[0.15-15]", classname: "tests.test_pricing.TestDiscount" }, known), "tests/test_pricing.py");
    assert.equal(fileOfTest({ name: "test_cancel_order", classname: "tests.db.test_orders" }, known), "tests/db/test_orders.py");
    assert.equal(fileOfTest({ name: "tests.test_legacy" }, known), "tests/test_legacy.py", "pytest's collection error names the module");
    assert.equal(fileOfTest({ name: "x", classname: "com.example.Other" }, known), undefined);
    assert.equal(fileOfTest({ name: "x", classname: "com.example.checkout.CartServiceTest" }), undefined, "a dotted name needs the list of files");
  });

  it("does not guess between two files that match equally", () => {
    const resolve = testFileResolver(["a/test_x.py", "b/test_x.py"]);
    assert.equal(resolve({ name: "t", classname: "test_x" }), undefined);
    assert.equal(resolve({ name: "t", classname: "b.test_x" }), "b/test_x.py");
  });
});

describe("timingsByFile", () => {
  it("adds up the durations of each file's tests", () => {
    const results = parseJUnit(fixture("node-test.xml"), "junit.xml", { root: "/tmp/slipway-job" });
    const timings = timingsByFile(results);
    assert.deepEqual([...timings.keys()].sort(), ["test/api/users.test.mjs", "test/broken.test.mjs", "test/math.test.mjs"]);
    assert.ok(Math.abs(timings.get("test/api/users.test.mjs")! - (31.523 + 0.535 + 0.238)) < 1e-9);
  });
});
