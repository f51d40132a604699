// Waiting on a deployment through the API until it settles (ends, or pauses for a person); a
// timeout says where it stood: its state, stages, analysis window and events.
import type { Api } from "./api.ts";
import { waitFor } from "./wait.ts";

const SETTLED = ["succeeded", "failed", "rolled_back", "cancelled", "paused"];

export async function settledDeployment(api: Api, id: string, timeoutMs = 60_000): Promise<any> {
  let last: any;
  return waitFor(
    async () => {
      last = (await api("GET", `/api/v1/deployments/${id}`)).body;
      return SETTLED.includes(last.state) ? last : undefined;
    },
    { timeoutMs, what: `deployment ${id} to finish` },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; it is ${last?.state}: ${JSON.stringify({ stages: last?.stages, analysis: last?.analysis, events: last?.events })}`, { cause: error });
  });
}
