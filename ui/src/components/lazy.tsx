// Load a page's code on first use (the topology graph library is most of the bundle).

import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ErrorNote, Loading } from "./feedback";

export function lazyPage<P extends object>(
  what: string,
  load: () => Promise<ComponentType<P>>,
): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return function LazyPage(props: P) {
    const [component, setComponent] = useState<ComponentType<P> | null>(() => loaded);
    const [error, setError] = useState<Error | null>(null);
    useEffect(() => {
      if (component) return;
      load().then(
        (found) => {
          loaded = found;
          setComponent(() => found);
        },
        (caught: unknown) => setError(caught instanceof Error ? caught : new Error(String(caught))),
      );
    }, []);
    if (error) return <ErrorNote error={error} retry={() => window.location.reload()} />;
    if (!component) return <Loading what={what} />;
    const Component = component;
    return <Component {...props} />;
  };
}
