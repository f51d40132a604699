// A steady stream of requests against a service's hosts, so that a canary has traffic to be
// judged by: `slipway up --demo` runs one against the demo's hosts. Each target gets `rate`
// GET requests per second, spread evenly, over kept-alive connections; the answers are counted
// (by status) and thrown away. The targets are read again every second, so hosts that come and
// go are followed.
import { Agent, request } from "node:http";

export interface TrafficOptions {
  /** The URLs to send GET requests to, read again every second. */
  targets: () => string[] | Promise<string[]>;
  /** Requests per second and target. */
  rate: number;
  /** Most requests in flight per target; beyond it a tick is skipped rather than queued. */
  maxInFlight?: number;
}

export class TrafficGenerator {
  readonly #options: TrafficOptions;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  readonly #inFlight = new Map<string, number>();
  #targets: string[] = [];
  #tick: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Timeout | undefined;
  /** Answers by status code ("error" for no answer). */
  readonly counts = new Map<string, number>();

  constructor(options: TrafficOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#readTargets();
    this.#refresh = setInterval(() => void this.#readTargets(), 1000);
    // One tick sends to every target; ticks are spaced so each target sees `rate` per second.
    this.#tick = setInterval(() => this.#send(), Math.max(1, Math.round(1000 / this.#options.rate)));
  }

  stop(): void {
    clearInterval(this.#tick);
    clearInterval(this.#refresh);
    this.#agent.destroy();
  }

  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  async #readTargets(): Promise<void> {
    try {
      this.#targets = await this.#options.targets();
    } catch {
      // Keep the last known targets.
    }
  }

  #send(): void {
    const limit = this.#options.maxInFlight ?? 8;
    for (const url of this.#targets) {
      const inFlight = this.#inFlight.get(url) ?? 0;
      if (inFlight >= limit) continue;
      this.#inFlight.set(url, inFlight + 1);
      let answered = false;
      const done = (outcome: string) => {
        if (answered) return;
        answered = true;
        this.#inFlight.set(url, (this.#inFlight.get(url) ?? 1) - 1);
        this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
      };
      const req = request(url, { agent: this.#agent, timeout: 5000, headers: { "user-agent": "slipway-traffic" } }, (res) => {
        res.resume();
        res.on("end", () => done(String(res.statusCode ?? 0)));
        res.on("error", () => done("error"));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => done("error"));
      req.end();
    }
  }
}
