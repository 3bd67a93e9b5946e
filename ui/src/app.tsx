// The shell: sign-in, the session, navigation and the page for the current path.

import { useEffect, useMemo, useState } from "preact/hooks";

import { ApiError, Client } from "./api";
import { Loading } from "./components/feedback";
import { lazyPage } from "./components/lazy";
import { LiveBanner } from "./components/live";
import { CreatePage } from "./pages/create";
import { HistoryPage } from "./pages/history";
import { NetworkPage } from "./pages/network";
import { NodePage } from "./pages/node";
import { Overview } from "./pages/overview";
import { ReviewPage } from "./pages/review";
import { RevisionPage } from "./pages/revision";
import { SignIn } from "./pages/signin";
import { TokensPage } from "./pages/tokens";
import { href, type Route, useRoute } from "./router";
import { clearToken, loadToken, saveToken } from "./session";
import { type Session, SessionContext, useSession } from "./session-context";
import type { WhoAmI } from "./api-types";

export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [me, setMe] = useState<WhoAmI | null>(null);
  const [checkError, setCheckError] = useState<string | null>(null);

  const signOut = () => {
    clearToken();
    setToken(null);
    setMe(null);
  };
  const expired = () => {
    signOut();
    setCheckError("The server no longer accepts this token (revoked?): sign in again.");
  };
  const client = useMemo(() => (token ? new Client(token, expired) : null), [token]);

  useEffect(() => {
    if (!client || me) return;
    client.json<WhoAmI>("/whoami").then(setMe, (error: unknown) => {
      signOut();
      setCheckError(
        error instanceof ApiError && error.status === 401
          ? "Your session ended: sign in again."
          : String(error instanceof Error ? error.message : error),
      );
    });
  }, [client, me]);

  if (!client) {
    return (
      <SignIn
        notice={checkError}
        onSignedIn={(secret, who) => {
          saveToken(secret);
          setCheckError(null);
          setToken(secret);
          setMe(who);
        }}
      />
    );
  }
  if (!me) {
    return (
      <main class="center">
        <Loading what="your session" />
      </main>
    );
  }
  const session: Session = { client, me, canWrite: me.role === "admin", signOut };
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

const TopologyPage = lazyPage("the topology view", async () => {
  const module = await import("./pages/topology");
  return module.TopologyPage;
});

const NAV: { label: string; to: string; pages: Route["page"][]; admin?: boolean }[] = [
  { label: "Overview", to: "/", pages: ["overview", "network", "topology", "node", "create"] },
  { label: "History", to: "/history", pages: ["history", "revision"] },
  { label: "Review", to: "/review", pages: ["review"] },
  { label: "Tokens", to: "/tokens", pages: ["tokens"], admin: true },
];

function Shell() {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const session = useSession();
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          drago
        </a>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <nav id="nav" class={menuOpen ? "open" : ""} aria-label="Main">
          {NAV.filter((item) => !item.admin || session.me.role === "admin").map((item) => (
            <a
              key={item.to}
              href={item.to}
              aria-current={item.pages.includes(route.page) ? "page" : undefined}
              onClick={() => setMenuOpen(false)}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <div class="who" data-testid="who">
          <span class="who-name">{session.me.name}</span>
          <span class={`badge role-${session.me.role}`}>{session.me.role}</span>
          <button type="button" class="link" onClick={session.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <LiveBanner />
        <PageFor route={route} />
      </main>
    </div>
  );
}

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview />;
    case "network":
      return <NetworkPage name={route.name} />;
    case "topology":
      return <TopologyPage name={route.name} />;
    case "node":
      return <NodePage name={route.name} />;
    case "history":
      return <HistoryPage />;
    case "revision":
      return <RevisionPage rev={route.rev} />;
    case "review":
      return <ReviewPage branch={route.branch} />;
    case "tokens":
      return <TokensPage />;
    case "create":
      return <CreatePage key={route.kind} kind={route.kind} />;
    case "missing":
      return (
        <section class="page">
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={href()}>Back to the overview</a>.
          </p>
        </section>
      );
  }
}
