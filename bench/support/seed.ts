// Seeds a store the size Flipkart's Flow reported (2K tenants, 3K production services) through
// the store's own functions, in transactions of a few hundred changes each, so the rows, tokens
// and audit entries are exactly what the API would have written.
//
// Every tenant owns at least one service; the rest are dealt out with Zipf-like weights (a few
// teams own dozens, most own one or two), from a fixed seed so every run lists the same data.
import { prng } from "./prng.ts";
import { bootstrapIfEmpty } from "../../src/store/bootstrap.ts";
import type { Store } from "../../src/store/connection.ts";
import type { ActorContext } from "../../src/store/audit.ts";
import { migrate } from "../../src/store/migrations/index.ts";
import { createService } from "../../src/store/services.ts";
import { ServiceCreate } from "../../src/contracts/services.ts";
import { createTenant } from "../../src/store/tenants.ts";

export interface Seeded {
  /** One token per tenant, in tenant order. */
  tokens: string[];
  /** How many services each tenant owns, in tenant order. */
  servicesPerTenant: number[];
}

const BATCH = 250;

export function spreadServices(tenants: number, services: number, seed = 7): number[] {
  const counts = Array.from({ length: tenants }, () => 1);
  const weights = counts.map((_, i) => 1 / (i + 1));
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  const random = prng(seed);
  for (let extra = services - tenants; extra > 0; extra--) {
    const target = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts;
}

export async function seedStore(store: Store, size: { tenants: number; services: number }, now = Date.now()): Promise<Seeded> {
  await migrate(store.db, store.dialect);
  const admin = await bootstrapIfEmpty(store.db, now);
  if (!admin) throw new Error("the bench store should have been empty");
  const actor: ActorContext & { userId: string } = { tenantId: "", userId: admin.user_id, actorName: "bench seed", requestId: null, ip: null, now };
  const servicesPerTenant = spreadServices(size.tenants, size.services);
  const tokens: string[] = [];
  for (let first = 0; first < size.tenants; first += BATCH) {
    await store.db.transaction().execute(async (trx) => {
      for (let i = first; i < Math.min(first + BATCH, size.tenants); i++) {
        const { tenant, token } = await createTenant(trx, actor, `team-${String(i).padStart(4, "0")}`);
        tokens.push(token.token);
        for (let s = 0; s < servicesPerTenant[i]!; s++) {
          const name = `team-${i}-svc-${s}`;
          await createService(trx, { ...actor, tenantId: tenant.id }, ServiceCreate.parse({
            name,
            repository_url: `https://git.example.com/team-${i}/${name}.git`,
            environments: [
              { name: "staging", selector: { env: "staging" } },
              { name: "production", selector: { env: "production", role: "web" } },
            ],
          }));
        }
      }
    });
  }
  return { tokens, servicesPerTenant };
}
