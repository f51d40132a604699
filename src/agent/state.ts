// The agent's own files at the top of its data dir: agent.json (who it registered as) and
// agent.lock, which keeps two agents from converging the same directory at once.
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { isErrno, readJsonFile, writeJsonAtomic } from "./files.ts";
import { isSameLiveProcess, readProcStat } from "./proc.ts";

export const AgentIdentity = z.object({ host_id: z.string(), name: z.string(), server: z.string() });
export type AgentIdentity = z.infer<typeof AgentIdentity>;

export const readIdentity = (dataDir: string): Promise<AgentIdentity | undefined> => readJsonFile(join(dataDir, "agent.json"), AgentIdentity);
export const writeIdentity = (dataDir: string, identity: AgentIdentity): Promise<void> => writeJsonAtomic(join(dataDir, "agent.json"), identity);

const Lock = z.object({ pid: z.number().int(), start_time: z.string().nullable() });

export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
}

/**
 * Takes <data-dir>/agent.lock; refused while the agent that wrote it is alive. A lock left by a
 * dead agent (kill -9, power cut) is taken over: the pid and its /proc start time tell them apart.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, "agent.lock");
  const mine = { pid: process.pid, start_time: readProcStat(process.pid)?.startTime ?? null };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(JSON.stringify(mine));
      await handle.sync();
      await handle.close();
      return async () => {
        const holder = await readJsonFile(path, Lock);
        if (holder?.pid === process.pid) await rm(path, { force: true });
      };
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
    }
    const holder = Lock.safeParse(JSON.parse(await readFile(path, "utf8").catch(() => "null"))).data;
    if (holder && holder.pid !== process.pid && isSameLiveProcess(holder.pid, holder.start_time)) {
      throw new DataDirLockedError(`another agent (pid ${holder.pid}) is using the data dir ${dataDir}`);
    }
    await rm(path, { force: true });
  }
  throw new DataDirLockedError(`could not lock the data dir ${dataDir}`);
}
