// The signed-in session shared by every page: the API client and who the token is.

import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";

import { ApiError, type Client } from "./api";
import type { WhoAmI } from "./api-types";

export interface Session {
  client: Client;
  me: WhoAmI;
  canWrite: boolean;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in session");
  return session;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Load with the session's client; reloads when `key` changes. Old answers are dropped. */
export function useLoad<T>(key: string, load: (client: Client) => Promise<T>): Loaded<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key });
  const [generation, setGeneration] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    let live = true;
    setState((old) => (old.key === key ? old : { key }));
    loader.current(client).then(
      (data) => live && setState({ key, data }),
      (error: unknown) =>
        live && setState({ key, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, [client, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || (state.data === undefined && state.error === undefined),
    reload,
  };
}

/** How often pages refresh what changes on its own (status, the live revision). */
export const REFRESH_SECONDS = 10;

/** Re-run `tick` every `seconds` while the page is visible. */
export function useInterval(tick: () => void, seconds: number): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") saved.current();
    }, seconds * 1000);
    return () => window.clearInterval(id);
  }, [seconds]);
}
