// Loading, empty and error states, and the small status badges used everywhere.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { ApiError } from "../api";
import { HEALTH_LABEL, type Health } from "../model";

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function ErrorNote({ error, retry }: { error: Error; retry?: () => void }) {
  const status = error instanceof ApiError ? ` (${error.status} ${error.code})` : "";
  return (
    <div class="note error" role="alert">
      <strong>Could not load{status}.</strong> {error.message}
      {retry && (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function HealthBadge({ health }: { health: Health }) {
  return <span class={`badge health-${health}`}>{HEALTH_LABEL[health]}</span>;
}

const SIGNATURE_TEXT: Record<string, string> = {
  server: "signed by the server",
  verified: "verified signature",
  unverified: "untrusted signature",
  signed: "signed",
  unsigned: "unsigned",
};

export function SignatureBadge({ signature }: { signature: string }) {
  return (
    <span class={`badge sig-${signature}`} title={SIGNATURE_TEXT[signature] ?? signature}>
      {signature}
    </span>
  );
}

export function Page({
  title,
  actions,
  children,
}: {
  title: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // After navigation, screen readers and keyboard users start at the new page.
    heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <section class="page">
      <header class="page-head">
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
