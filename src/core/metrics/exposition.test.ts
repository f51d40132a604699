import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucketBound, fromWire, parseExposition, parseFloatValue, seriesKey, toWire, type Sample, type WireSample } from "./exposition.ts";

describe("Prometheus text exposition", () => {
  it("reads HELP, TYPE, labelled and unlabelled samples, and timestamps", () => {
    const parsed = parseExposition(
      [
        "# HELP http_requests_total The total number of HTTP requests.",
        "# TYPE http_requests_total counter",
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3 1395066363000',
        "",
        "# A plain comment",
        "metric_without_timestamp_and_labels 12.47",
        "\tindented_metric 1e3",
      ].join("\n"),
    );
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.types.get("http_requests_total"), "counter");
    assert.equal(parsed.help.get("http_requests_total"), "The total number of HTTP requests.");
    assert.deepEqual(parsed.samples, [
      { name: "http_requests_total", labels: { method: "post", code: "200" }, value: 1027, timestamp: 1395066363000 },
      { name: "http_requests_total", labels: { method: "post", code: "400" }, value: 3, timestamp: 1395066363000 },
      { name: "metric_without_timestamp_and_labels", labels: {}, value: 12.47 },
      { name: "indented_metric", labels: {}, value: 1000 },
    ]);
  });

  it("unescapes label values (\\\\, \\\" and \\n) and HELP text, and keeps braces and commas inside quotes", () => {
    const parsed = parseExposition(['# HELP odd A \\\\ backslash\\nand a newline', 'odd{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",set="{a,b}",} 1.458255915e9'].join("\n"));
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.help.get("odd"), "A \\ backslash\nand a newline");
    assert.deepEqual(parsed.samples[0]!.labels, { path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"', set: "{a,b}" });
    assert.equal(parsed.samples[0]!.value, 1458255915);
  });

  it("reads NaN, +Inf and -Inf values and histogram buckets", () => {
    const parsed = parseExposition(
      [
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{le="0.05"} 24054',
        'latency_seconds_bucket{le="+Inf"} 144320',
        "latency_seconds_sum 53423",
        "latency_seconds_count 144320",
        "gauge_nan NaN",
        "gauge_up +Inf",
        "gauge_down -Inf",
      ].join("\n"),
    );
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.types.get("latency_seconds"), "histogram");
    const value = (name: string) => parsed.samples.find((s) => s.name === name)!.value;
    assert.ok(Number.isNaN(value("gauge_nan")));
    assert.equal(value("gauge_up"), Infinity);
    assert.equal(value("gauge_down"), -Infinity);
    assert.deepEqual(parsed.samples.filter((s) => s.name === "latency_seconds_bucket").map((s) => bucketBound(s.labels.le)), [0.05, Infinity]);
  });

  it("tolerates CRLF line ends, OpenMetrics' # EOF, exemplars and timestamps in seconds", () => {
    const parsed = parseExposition('# TYPE a counter\r\na_total{x="1"} 5 1700000000.5 # {trace_id="abc"} 1.0\r\n# EOF\r\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.samples, [{ name: "a_total", labels: { x: "1" }, value: 5, timestamp: 1_700_000_000_500 }]);
  });

  it("reports each malformed line with its number and keeps the good ones", () => {
    const parsed = parseExposition(
      [
        "good 1",
        "no_value",
        'bad_label{a=b} 1',
        'unclosed{a="b} 1',
        "bad_number abc",
        'bad_escape{a="\\q"} 1',
        "# TYPE x whatever",
        'dup{a="1"} 1',
        'dup{a="1"} 2',
        "too many tokens here 1",
        "also_good 2",
      ].join("\n"),
    );
    assert.deepEqual(parsed.samples.map((s) => s.name), ["good", "dup", "also_good"]);
    assert.deepEqual(parsed.problems.map((p) => p.line), [2, 3, 4, 5, 6, 7, 9, 10]);
    assert.match(parsed.problems[0]!.message, /no_value has no value/);
    assert.match(parsed.problems[2]!.message, /no closing quote/);
    assert.match(parsed.problems[4]!.message, /invalid escape \\q/);
    assert.match(parsed.problems[6]!.message, /appears twice/);
  });

  it("keys a series by its name and sorted labels", () => {
    assert.equal(seriesKey("x", { b: "2", a: '1"' }), 'x{a="1\\"",b="2"}');
    assert.equal(seriesKey("x", {}), "x");
  });

  it("reads floats the way Go's ParseFloat spells them", () => {
    assert.equal(parseFloatValue("-1.5e-3"), -0.0015);
    assert.equal(parseFloatValue(".5"), 0.5);
    assert.equal(parseFloatValue("Inf"), Infinity);
    assert.equal(parseFloatValue("1.2.3"), undefined);
    assert.equal(parseFloatValue(""), undefined);
  });

  it("round-trips samples through the compact wire form, NaN and infinities included", () => {
    const samples: Sample[] = [
      { name: "a", labels: { x: "1" }, value: 2.5 },
      { name: "b", labels: {}, value: Number.NaN },
      { name: "c", labels: {}, value: Infinity },
      { name: "d", labels: {}, value: -Infinity },
    ];
    const wire = JSON.parse(JSON.stringify(toWire(samples))) as WireSample[];
    assert.deepEqual(wire, [["a", { x: "1" }, 2.5], ["b", {}, "NaN"], ["c", {}, "+Inf"], ["d", {}, "-Inf"]]);
    assert.deepEqual(fromWire(wire), samples);
  });
});
