import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlipwayError } from "../errors.ts";
import { escapeRegex, formatSelector, isSelector, matchesSelector, parseSelector, withMatcher } from "./selector.ts";

describe("series selectors", () => {
  it("parses a name with every kind of matcher", () => {
    assert.deepEqual(parseSelector('http_requests_total{a="x", b=~"5..",c!="y",d!~"re|ex",}'), {
      name: "http_requests_total",
      matchers: [
        { label: "a", op: "=", value: "x" },
        { label: "b", op: "=~", value: "5.." },
        { label: "c", op: "!=", value: "y" },
        { label: "d", op: "!~", value: "re|ex" },
      ],
    });
    assert.deepEqual(parseSelector("up"), { name: "up", matchers: [] });
    assert.deepEqual(parseSelector('{__name__="up",job="api"}'), { name: "up", matchers: [{ label: "job", op: "=", value: "api" }] });
  });

  it("reads double-quoted, single-quoted and raw strings with their escapes", () => {
    assert.equal(parseSelector('x{a="q\\"uote\\\\d"}').matchers[0]!.value, 'q"uote\\d');
    assert.equal(parseSelector("x{a='it\\'s'}").matchers[0]!.value, "it's");
    assert.equal(parseSelector("x{a=`\\d+`}").matchers[0]!.value, "\\d+");
    assert.equal(parseSelector('x{a="\\u00e9"}').matchers[0]!.value, "é");
  });

  it("matches like Prometheus: anchored regexes, absent labels as empty, (?i) case-insensitive", () => {
    const s = parseSelector('req_total{status=~"5..",route!="/healthz",zone=""}');
    assert.equal(matchesSelector(s, "req_total", { status: "500", route: "/" }), true);
    assert.equal(matchesSelector(s, "req_total", { status: "5000", route: "/" }), false, "the regex matches the whole value");
    assert.equal(matchesSelector(s, "req_total", { status: "503", route: "/healthz" }), false);
    assert.equal(matchesSelector(s, "req_total", { status: "503", zone: "eu" }), false, 'zone="" needs the label absent or empty');
    assert.equal(matchesSelector(s, "other_total", { status: "500" }), false);
    assert.equal(matchesSelector(parseSelector('x{m=~"(?i)get"}'), "x", { m: "GET" }), true);
    assert.equal(matchesSelector(parseSelector('x{m!~"a|b"}'), "x", {}), true);
    assert.equal(matchesSelector(parseSelector('{__name__=~"x_.*"}'), "x_total", {}), true);
  });

  it("refuses a malformed selector with a clear message naming it", () => {
    for (const [text, pattern] of [
      ["", /give a metric name/],
      ["sum(rate(x[5m]))", /unexpected '\(rate/],
      ['x{a="unclosed}', /no closing quote/],
      ["x{a=b}", /expected a quoted value for a/],
      ['x{a=="b"}', /expected a quoted value/],
      ['x{a=~"("}', /regex for a is invalid/],
      ['x{a="b" c="d"}', /expected , or }/],
      ['x{__name__="y"}', /name is given twice/],
    ] as const) {
      assert.throws(
        () => parseSelector(text),
        (error: unknown) => error instanceof SlipwayError && error.code === "invalid_input" && pattern.test(error.message) && error.message.includes(`'${text}'`),
        text,
      );
    }
    assert.equal(isSelector("rate(x[1m])"), false);
    assert.equal(isSelector("x"), true);
  });

  it("writes a selector back as PromQL, with extra matchers and escaped values", () => {
    const s = withMatcher(parseSelector('req_total{status=~"5..",path="a\\"b"}'), { label: "instance", op: "=~", value: `${escapeRegex("127.0.0.1")}(:[0-9]+)?` });
    const text = formatSelector(s);
    assert.equal(text, 'req_total{status=~"5..",path="a\\"b",instance=~"127\\\\.0\\\\.0\\\\.1(:[0-9]+)?"}');
    assert.deepEqual(parseSelector(text), s, "the text parses back to the same selector");
    assert.equal(formatSelector(parseSelector("up")), "up");
  });
});
