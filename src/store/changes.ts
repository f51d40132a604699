// In-process change signals: a host's desired state changed (wake its long-poll), a tenant's
// deployments or hosts changed (push to dashboards). Signals only say "look again"; the data
// is always read from the store, so a missed signal costs latency, never correctness, and
// replicas that do not share this process fall back to periodic re-reads.
import { EventEmitter } from "node:events";

export type ChangeKind = "deployment" | "host" | "release" | "service" | "run" | "job";

export interface TenantChange {
  tenantId: string;
  kind: ChangeKind;
  id: string;
}

export class Changes {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  hostDesiredChanged(hostId: string): void {
    this.emitter.emit(`host:${hostId}`);
  }

  tenantChanged(change: TenantChange): void {
    this.emitter.emit(`tenant:${change.tenantId}`, change);
    this.emitter.emit("any", change);
  }

  /** Resolves when the host's desired state changes or after `timeoutMs`, whichever is first. */
  waitForHost(hostId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.waitFor(`host:${hostId}`, timeoutMs, signal);
  }

  /** A tenant has newly queued pipeline jobs: runners waiting for work look again. */
  jobsQueued(tenantId: string): void {
    this.emitter.emit(`jobs:${tenantId}`);
  }

  waitForJobs(tenantId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.waitFor(`jobs:${tenantId}`, timeoutMs, signal);
  }

  /** A job has new log lines or finished: followers of its log read on. */
  jobLogged(jobId: string): void {
    this.emitter.emit(`log:${jobId}`);
  }

  waitForJobLog(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.waitFor(`log:${jobId}`, timeoutMs, signal);
  }

  private waitFor(topic: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(topic, done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on(topic, done);
      signal?.addEventListener("abort", done);
    });
  }

  onTenant(tenantId: string, listener: (change: TenantChange) => void): () => void {
    this.emitter.on(`tenant:${tenantId}`, listener);
    return () => this.emitter.off(`tenant:${tenantId}`, listener);
  }

  onAny(listener: (change: TenantChange) => void): () => void {
    this.emitter.on("any", listener);
    return () => this.emitter.off("any", listener);
  }
}
