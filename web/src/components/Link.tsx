// A link to a page of the dashboard: followed without reloading; a modified click (new tab,
// new window) is left to the browser.
import type { MouseEvent, ReactNode } from "react";
import { navigate } from "../lib/route.ts";

export function Link({ to, className, title, children }: { to: string; className?: string | undefined; title?: string | undefined; children: ReactNode }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} className={className} title={title} onClick={follow}>
      {children}
    </a>
  );
}
