// The page: who you are and whether the view is live, what is deploying right now, every
// service with its environments and hosts, and the deploy log.
import { useDashboard, useNow } from "../lib/live.ts";
import { isTerminal } from "../lib/api.ts";
import { ActiveDeployments } from "./ActiveDeployments.tsx";
import { DeployLog } from "./DeployLog.tsx";
import { ServiceCard } from "./ServiceCard.tsx";
import { TopBar } from "./TopBar.tsx";

export function Dashboard({ token, onSignOut }: { token: string; onSignOut: (why?: string) => void }) {
  const { snapshot, connection, error } = useDashboard(token, onSignOut);
  const now = Math.max(useNow(), snapshot?.at ?? 0);
  return (
    <>
      <TopBar whoami={snapshot?.whoami ?? null} connection={connection} updatedAt={snapshot?.at ?? null} onSignOut={() => onSignOut()} />
      <main className="page">
        {error && <div className="banner">Could not refresh: {error}{snapshot ? " — showing the last data read." : ""}</div>}
        {!snapshot ? (
          !error && <p className="empty">Loading…</p>
        ) : (
          <>
            <ActiveDeployments deployments={snapshot.active.filter((d) => !isTerminal(d.state))} now={now} />
            {snapshot.services.length === 0 ? (
              <section className="card">
                <p className="empty">No services yet. Register one with `slipway service create NAME --repo URL --env staging --env production`.</p>
              </section>
            ) : (
              snapshot.services.map((status) => <ServiceCard key={status.service} status={status} now={now} />)
            )}
            <DeployLog log={snapshot.log} now={now} />
          </>
        )}
      </main>
    </>
  );
}
