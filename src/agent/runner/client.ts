// The runner's side of contracts/runner.ts: claim a job (long poll), report its steps (also the
// job's heartbeat), ship its log lines, finish it. Requests go through the agent's one ServerHttp,
// so errors are the same AgentHttpErrors the host loop handles.
import type { z } from "zod";
import { JobAck, RunnerClaimed, type JobFinish, type JobLogs, type JobStatus, type RunnerJob } from "../../contracts/runner.ts";
import type { Artifact } from "../../contracts/releases.ts";
import type { ServerHttp } from "../client.ts";
import type { ArtifactResponse, ArtifactSource } from "../download.ts";

export type Ack = z.infer<typeof JobAck>;

/** What an executing job needs from the server; RunnerClient is the HTTP one, tests may pass their own. */
export interface JobServer extends ArtifactSource {
  status(jobId: string, body: JobStatus, signal?: AbortSignal): Promise<Ack>;
  logs(jobId: string, body: JobLogs, signal?: AbortSignal): Promise<Ack>;
  finish(jobId: string, body: JobFinish, signal?: AbortSignal): Promise<Ack>;
  artifactSize(sha256: string, signal?: AbortSignal): Promise<number>;
  upload(path: string, expected: { sha256: string; size: number }, signal?: AbortSignal): Promise<Artifact>;
}

const jobPath = (jobId: string, action: string) => `/api/v1/runner/jobs/${encodeURIComponent(jobId)}/${action}`;

export class RunnerClient implements JobServer {
  readonly #http: ServerHttp;

  constructor(http: ServerHttp) {
    this.#http = http;
  }

  /** Long-polls for a job this runner's labels match: a job, or null after `waitMs`. */
  async claim(hostId: string, waitMs: number, signal?: AbortSignal): Promise<RunnerJob | null> {
    const claimed = await this.#http.json("POST", "/api/v1/runner/claim", RunnerClaimed, { body: { host_id: hostId, wait_ms: waitMs }, signal, timeoutMs: waitMs + this.#http.requestTimeoutMs });
    return claimed.job;
  }

  status(jobId: string, body: JobStatus, signal?: AbortSignal): Promise<Ack> {
    return this.#http.json("POST", jobPath(jobId, "status"), JobAck, { body, signal });
  }

  logs(jobId: string, body: JobLogs, signal?: AbortSignal): Promise<Ack> {
    return this.#http.json("POST", jobPath(jobId, "logs"), JobAck, { body, signal });
  }

  finish(jobId: string, body: JobFinish, signal?: AbortSignal): Promise<Ack> {
    return this.#http.json("POST", jobPath(jobId, "finish"), JobAck, { body, signal });
  }

  artifact(sha256: string, start: number, signal?: AbortSignal): Promise<ArtifactResponse> {
    return this.#http.artifact(sha256, start, signal);
  }

  artifactSize(sha256: string, signal?: AbortSignal): Promise<number> {
    return this.#http.artifactSize(sha256, signal);
  }

  upload(path: string, expected: { sha256: string; size: number }, signal?: AbortSignal): Promise<Artifact> {
    return this.#http.upload(path, expected, signal);
  }
}
