// What `slipway up` keeps between starts, and the tokens it hands out.
//
// <data-dir>/up.json (mode 0600: it holds a secret) keeps the agent token its hosts register
// with, so that a restarted `up` does not pile up agent tokens. The admin token is new on every
// start: the server prints its bootstrap token only on the very first start, and `up` must give
// the person a working token every time. Both are created through the store directly, since the
// server runs in this process.
//
// <data-dir>/up.lock (pid and /proc start time) keeps two `up`s off one data dir; a lock left by
// a dead one is taken over.
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { z } from "zod";
import { isSameLiveProcess, readProcStat } from "../agent/proc.ts";
import { SlipwayError } from "../core/errors.ts";
import type { ActorContext } from "../store/audit.ts";
import type { Database } from "../store/schema.ts";
import { authenticate, createToken } from "../store/tokens.ts";

const SavedSession = z.object({ agent_token: z.string().optional() });
type SavedSession = z.infer<typeof SavedSession>;

const sessionPath = (dataDir: string) => join(dataDir, "up.json");

async function readSession(dataDir: string): Promise<SavedSession> {
  try {
    return SavedSession.catch({}).parse(JSON.parse(await readFile(sessionPath(dataDir), "utf8")));
  } catch {
    return {};
  }
}

async function writeSession(dataDir: string, session: SavedSession): Promise<void> {
  const path = sessionPath(dataDir);
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(session, null, 2) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** The bootstrap admin (the first system admin) and the tenant it administers. */
async function bootstrapAdmin(db: Kysely<Database>): Promise<{ userId: string; userName: string; tenantId: string; tenantName: string }> {
  const row = await db
    .selectFrom("users")
    .innerJoin("memberships", "memberships.user_id", "users.id")
    .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
    .select(["users.id as userId", "users.name as userName", "tenants.id as tenantId", "tenants.name as tenantName"])
    .where("users.system_admin", "=", 1)
    .where("memberships.role", "=", "admin")
    .orderBy("users.created_at")
    .orderBy("tenants.created_at")
    .executeTakeFirst();
  if (!row) throw new SlipwayError("internal", "the store has no system admin with an admin role in a tenant; `slipway up` needs the one its first start created");
  return row;
}

export interface UpSession {
  tenantId: string;
  tenant: string;
  user: string;
  adminToken: string;
  agentToken: string;
}

/** Tokens for this start: the saved agent token while the store still accepts it, and a new admin token. */
export async function openSession(db: Kysely<Database>, dataDir: string, now: number): Promise<UpSession> {
  const admin = await bootstrapAdmin(db);
  const actor: ActorContext = { tenantId: admin.tenantId, userId: admin.userId, actorName: "slipway up", requestId: null, ip: null, now };
  const saved = await readSession(dataDir);
  let agentToken = saved.agent_token;
  const known = agentToken ? await authenticate(db, agentToken, now) : undefined;
  if (!agentToken || known?.kind !== "agent" || known.tenantId !== admin.tenantId) {
    agentToken = (await createToken(db, actor, { userId: admin.userId, name: "slipway up hosts", kind: "agent" })).token;
    await writeSession(dataDir, { ...saved, agent_token: agentToken });
  }
  const stamp = new Date(now).toISOString().replace("T", " ").slice(0, 19);
  const adminToken = (await createToken(db, actor, { userId: admin.userId, name: `slipway up session ${stamp}Z`, kind: "user" })).token;
  return { tenantId: admin.tenantId, tenant: admin.tenantName, user: admin.userName, adminToken, agentToken };
}

/** Takes <data-dir>/up.lock, or says which live `up` holds it. Returns the release. */
export async function lockUpDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, "up.lock");
  const mine = JSON.stringify({ pid: process.pid, start_time: readProcStat(process.pid)?.startTime ?? null });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o644);
      await handle.writeFile(mine);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = z.object({ pid: z.number().int(), start_time: z.string().nullable() }).safeParse(JSON.parse(await readFile(path, "utf8").catch(() => "null"))).data;
    if (holder && holder.pid !== process.pid && isSameLiveProcess(holder.pid, holder.start_time)) {
      throw new SlipwayError("conflict", `another slipway up (pid ${holder.pid}) is running on ${dataDir}; stop it first or use another --data-dir`);
    }
    await rm(path, { force: true });
  }
  throw new SlipwayError("conflict", `could not lock ${path}`);
}
