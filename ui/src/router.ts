// A small history-API router: the server answers index.html for every UI path.

import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "overview" }
  | { page: "network"; name: string }
  | { page: "topology"; name: string }
  | { page: "node"; name: string }
  | { page: "history" }
  | { page: "revision"; rev: string }
  | { page: "review"; branch: string | null }
  | { page: "tokens" }
  | { page: "create"; kind: "node" | "network" }
  | { page: "missing"; path: string };

export function parse(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (parts.length === 0) return { page: "overview" };
  if (first === "networks" && second && !third) return { page: "network", name: second };
  if (first === "networks" && second && third === "topology" && parts.length === 3)
    return { page: "topology", name: second };
  if (first === "nodes" && second && parts.length === 2) return { page: "node", name: second };
  if (first === "history" && parts.length === 1) return { page: "history" };
  if (first === "history" && second && parts.length === 2) return { page: "revision", rev: second };
  if (first === "review") return { page: "review", branch: parts.slice(1).join("/") || null };
  if (first === "tokens" && parts.length === 1) return { page: "tokens" };
  if (first === "new" && (second === "node" || second === "network") && parts.length === 2)
    return { page: "create", kind: second };
  return { page: "missing", path: pathname };
}

export function href(...parts: string[]): string {
  return "/" + parts.map(encodeURIComponent).join("/");
}

/** A path whose last part may hold slashes (branch names like `review/dns`). */
export function hrefPath(prefix: string, name: string): string {
  return `/${prefix}/` + name.split("/").map(encodeURIComponent).join("/");
}

export function navigate(to: string): void {
  if (to === window.location.pathname) return;
  window.history.pushState(null, "", to);
  window.dispatchEvent(new PopStateEvent("popstate"));
  window.scrollTo(0, 0);
}

/** Follow in-app links without a page load (keeps modifier-clicks and new tabs working). */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const target = event.target as Element | null;
  const anchor = target?.closest("a");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parse(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parse(window.location.pathname));
    window.addEventListener("popstate", update);
    document.addEventListener("click", onLinkClick);
    return () => {
      window.removeEventListener("popstate", update);
      document.removeEventListener("click", onLinkClick);
    };
  }, []);
  return route;
}
