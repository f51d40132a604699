// The dashboard's pages are real paths (the server answers index.html for any path outside
// /api), so a link can be shared and a reload stays on the page:
//
//   /                      overview: what is live where, deploying now, the deploy log
//   /services/:service     the overview of one service
//   /pipelines             pipeline runs of every service, newest first
//   /pipelines/:service    the runs of one service
//   /runs/:id?job=:job     one run: its jobs' graph, the selected job's steps and log, its tests
//   /deployments/:id       one deployment: its stages, the canary analysis behind each decision, hosts, events
//   /tests/:service        slowest and flakiest tests, quarantine
import { useEffect, useState } from "react";

export type Route =
  | { page: "overview"; service: string | null }
  | { page: "pipelines"; service: string | null }
  | { page: "run"; id: string; job: string | null }
  | { page: "deployment"; id: string }
  | { page: "tests"; service: string | null }
  | { page: "missing"; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeSegment);
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { page: "missing", path: pathname };
  if (first === undefined) return { page: "overview", service: null };
  if (first === "services" && second !== undefined) return { page: "overview", service: second };
  if (first === "pipelines") return { page: "pipelines", service: second ?? null };
  if (first === "runs" && second !== undefined) return { page: "run", id: second, job: new URLSearchParams(search).get("job") };
  if (first === "deployments" && second !== undefined) return { page: "deployment", id: second };
  if (first === "tests") return { page: "tests", service: second ?? null };
  return { page: "missing", path: pathname };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export const paths = {
  overview: (service?: string | null) => (service ? `/services/${encodeURIComponent(service)}` : "/"),
  pipelines: (service?: string | null) => (service ? `/pipelines/${encodeURIComponent(service)}` : "/pipelines"),
  run: (id: string, job?: string | null) => `/runs/${encodeURIComponent(id)}${job ? `?job=${encodeURIComponent(job)}` : ""}`,
  deployment: (id: string) => `/deployments/${encodeURIComponent(id)}`,
  tests: (service?: string | null) => (service ? `/tests/${encodeURIComponent(service)}` : "/tests"),
};

const NAVIGATED = "slipway:navigate";

/** Goes to `path` without reloading; `replace` keeps the history as it is (a selection, not a page). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATED));
  if (!options.replace) window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const read = () => parseRoute(window.location.pathname, window.location.search);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}
