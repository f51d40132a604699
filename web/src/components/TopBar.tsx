import type { WhoAmI } from "../lib/api.ts";
import { stamp } from "../lib/format.ts";
import type { Connection } from "../lib/live.ts";

const CONNECTION: Record<Connection, { label: string; title: string }> = {
  connecting: { label: "connecting", title: "opening the live event stream" },
  live: { label: "live", title: "changes arrive over the event stream as they happen" },
  polling: { label: "polling", title: "the event stream is down: re-reading every few seconds and reconnecting" },
};

export function TopBar({ whoami, connection, updatedAt, onSignOut }: { whoami: WhoAmI | null; connection: Connection; updatedAt: number | null; onSignOut: () => void }) {
  return (
    <header className="topbar">
      <span className="brand">Slipway</span>
      {whoami && (
        <span className="who">
          <span className="tenant">{whoami.tenant.name}</span>
          <span className="muted">
            {whoami.user.name} ({whoami.roles.join(", ") || "no roles"})
          </span>
        </span>
      )}
      <span className="spacer" />
      {updatedAt !== null && <span className="muted updated">updated {stamp(new Date(updatedAt).toISOString()).slice(11)}</span>}
      <span className={`connection ${connection}`} title={CONNECTION[connection].title} data-connection={connection}>
        <span className="dot" />
        {CONNECTION[connection].label}
      </span>
      <button type="button" className="link" onClick={onSignOut}>
        sign out
      </button>
    </header>
  );
}
