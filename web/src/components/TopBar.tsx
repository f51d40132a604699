// Who is signed in, the pages, when the data was last read and whether the page is live.
import { getJson, type WhoAmI } from "../lib/api.ts";
import { stamp } from "../lib/format.ts";
import { useLiveQuery, type Connection } from "../lib/live.ts";
import { paths, type Route } from "../lib/route.ts";
import { Link } from "./Link.tsx";

const CONNECTION: Record<Connection, { label: string; title: string }> = {
  connecting: { label: "connecting", title: "opening the live event stream" },
  live: { label: "live", title: "changes arrive over the event stream as they happen" },
  polling: { label: "polling", title: "the event stream is down: re-reading every few seconds and reconnecting" },
};

const NAV: { label: string; to: string; pages: Route["page"][] }[] = [
  { label: "Overview", to: paths.overview(), pages: ["overview", "deployment"] },
  { label: "Pipelines", to: paths.pipelines(), pages: ["pipelines", "run"] },
  { label: "Tests", to: paths.tests(), pages: ["tests"] },
];

const loadWhoami = (token: string, signal: AbortSignal) => getJson<WhoAmI>(token, "/whoami", signal);

export function TopBar({ route, connection, updatedAt, onSignOut }: { route: Route; connection: Connection; updatedAt: number | null; onSignOut: () => void }) {
  // Read once, and again when users or their roles change.
  const { data: whoami } = useLiveQuery("whoami", loadWhoami, (change) => change.kind === "user");
  return (
    <header className="topbar">
      <span className="brand">Slipway</span>
      <nav className="nav" aria-label="pages">
        {NAV.map((item) => (
          <Link key={item.label} to={item.to} className={item.pages.includes(route.page) ? "current" : undefined}>
            {item.label}
          </Link>
        ))}
      </nav>
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
