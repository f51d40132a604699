// Prometheus' HTTP API, the two calls the prometheus provider needs: an instant query
// (POST /api/v1/query) and a range query (POST /api/v1/query_range). Every failure is a
// SlipwayError that names the metric, the query and what went wrong:
//
//   unreachable, timed out, 5xx      -> unavailable  ("Prometheus at http://prom:9090 could not be reached ...")
//   the query refused (bad_data ...) -> invalid_input ("Prometheus refused the query ...: parse error ...")
//
// Credentials in the URL (http://user:pass@prom:9090) are sent as basic auth and never shown.
import { z } from "zod";
import { SlipwayError } from "../core/errors.ts";
import { parseFloatValue, type Labels } from "../core/metrics/exposition.ts";

const Pair = z.tuple([z.number(), z.string()]);
const Answer = z.union([
  z.object({ status: z.literal("success"), data: z.object({ resultType: z.string(), result: z.unknown() }) }),
  z.object({ status: z.literal("error"), errorType: z.string().default("error"), error: z.string().default("") }),
]);
const Vector = z.array(z.object({ metric: z.record(z.string(), z.string()), value: Pair }));
const Matrix = z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(Pair) }));

export interface VectorPoint {
  labels: Labels;
  value: number;
}

export interface MatrixSeries {
  labels: Labels;
  /** [epoch ms, value] */
  points: [number, number][];
}

export interface PrometheusApiOptions {
  url: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** What a failing query is about, for the error message. */
export interface QueryContext {
  metric: string;
  query: string;
}

const valueOf = (text: string): number => parseFloatValue(text) ?? Number.NaN;

export class PrometheusApi {
  readonly #base: URL;
  readonly #shown: string;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: PrometheusApiOptions) {
    const base = new URL(options.url);
    if (base.username || base.password) this.#auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`;
    base.username = "";
    base.password = "";
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#base = base;
    this.#shown = base.toString().replace(/\/$/, "");
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The query's instant vector (or scalar, as one unlabelled point) at `atMs`. */
  async instant(context: QueryContext, atMs: number): Promise<VectorPoint[]> {
    const data = await this.#call("query", { query: context.query, time: seconds(atMs) }, context);
    if (data.resultType === "scalar") {
      const pair = Pair.safeParse(data.result);
      return pair.success ? [{ labels: {}, value: valueOf(pair.data[1]) }] : [];
    }
    const vector = Vector.safeParse(data.result);
    if (data.resultType !== "vector" || !vector.success) throw this.#error("invalid_input", context, `the query gives a ${data.resultType}, not an instant vector`);
    return vector.data.map((r) => ({ labels: r.metric, value: valueOf(r.value[1]) }));
  }

  /** The query evaluated every `stepMs` from `startMs` to `endMs` (both included). */
  async range(context: QueryContext, startMs: number, endMs: number, stepMs: number): Promise<MatrixSeries[]> {
    const data = await this.#call("query_range", { query: context.query, start: seconds(startMs), end: seconds(endMs), step: seconds(stepMs) }, context);
    const matrix = Matrix.safeParse(data.result);
    if (data.resultType !== "matrix" || !matrix.success) throw this.#error("invalid_input", context, `the query gives a ${data.resultType}, not a range of vectors`);
    return matrix.data.map((r) => ({ labels: r.metric, points: r.values.map(([at, v]) => [Math.round(at * 1000), valueOf(v)] as [number, number]) }));
  }

  async #call(endpoint: "query" | "query_range", params: Record<string, string>, context: QueryContext): Promise<{ resultType: string; result: unknown }> {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (this.#auth) headers.authorization = this.#auth;
    let response: Response;
    try {
      response = await this.#fetch(new URL(`api/v1/${endpoint}`, this.#base), { method: "POST", headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      const cause = error as Error & { cause?: { code?: string } };
      const why = cause.name === "TimeoutError" ? `no answer within ${this.#timeoutMs} ms` : (cause.cause?.code ?? cause.message);
      throw this.#error("unavailable", context, `could not be reached (${why})`, error);
    }
    const text = await response.text().catch(() => "");
    let answer: z.infer<typeof Answer> | undefined;
    try {
      answer = Answer.parse(JSON.parse(text));
    } catch {
      answer = undefined;
    }
    if (answer?.status === "success" && response.ok) return answer.data;
    if (answer?.status === "error") {
      // 400 bad_data, 422 execution: the query is at fault. 503 timeout/unavailable, 500 internal: Prometheus is.
      const code = response.status === 400 || response.status === 422 ? "invalid_input" : "unavailable";
      throw this.#error(code, context, `${code === "invalid_input" ? "refused the query" : "failed"}: ${answer.errorType}: ${answer.error}`);
    }
    throw this.#error("unavailable", context, `answered ${response.status} ${response.statusText} without a Prometheus API body${text ? `: ${text.slice(0, 200)}` : ""}`);
  }

  #error(code: "invalid_input" | "unavailable", context: QueryContext, what: string, cause?: unknown): SlipwayError {
    return new SlipwayError(code, `metric '${context.metric}': Prometheus at ${this.#shown} ${what} (query: ${context.query})`, { cause, details: [{ field: "query", message: context.query }] });
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);
