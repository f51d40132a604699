// The signed-in page: the top bar with navigation, and the page the address asks for. The
// event stream lives here, shared by whichever page is open.
import { LiveContext, useEventStream } from "../lib/live.ts";
import { paths, useRoute, type Route } from "../lib/route.ts";
import { DeploymentPage } from "./deployments/DeploymentPage.tsx";
import { Link } from "./Link.tsx";
import { Overview } from "./Overview.tsx";
import { RunPage } from "./pipelines/RunPage.tsx";
import { RunsPage } from "./pipelines/RunsPage.tsx";
import { TestsPage } from "./tests/TestsPage.tsx";
import { TopBar } from "./TopBar.tsx";

export function Shell({ token, onSignOut }: { token: string; onSignOut: (why?: string) => void }) {
  const { hub, connection, updatedAt } = useEventStream(token, onSignOut);
  const route = useRoute();
  return (
    <LiveContext value={hub}>
      <TopBar route={route} connection={connection} updatedAt={updatedAt} onSignOut={() => onSignOut()} />
      <main className="page">
        <Page route={route} />
      </main>
    </LiveContext>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview service={route.service} />;
    case "pipelines":
      return <RunsPage service={route.service} />;
    case "run":
      return <RunPage key={route.id} id={route.id} job={route.job} />;
    case "deployment":
      return <DeploymentPage key={route.id} id={route.id} />;
    case "tests":
      return <TestsPage service={route.service} />;
    case "missing":
      return (
        <section className="card">
          <p className="empty">
            There is no page at {route.path}. <Link to={paths.overview()}>Back to the overview</Link>
          </p>
        </section>
      );
  }
}
