/**
 * The backend's side of the flow, in the flow inspector: in mock mode the backend announces its
 * scenario knobs (`<meta name="tmi-bff-mock">`), and streams what it did for this session at
 * `<knobs>/flow` (Server-Sent Events, reference-backend/src/flow-stream.ts): the authorization
 * request the browser was sent to, the callback, the code redemption, each refresh, exchange and
 * revocation, sign-out and back-channel logout. No script can see these otherwise: the first two are
 * navigations, the others are the backend's own requests to the AS.
 *
 * Walkthrough: docs/walkthrough/06-sample-spa.md.
 */

/** One event of the stream, as reference-backend/src/flow-events.ts `FlowEvent` sends it. */
export interface BackendEvent {
  id: number;
  kind: string;
  /** Epoch ms when it ended. */
  at: number;
  ms?: number;
  data: Record<string, unknown>;
}

export interface BackendFlow {
  /**
   * Follows the stream of the session of the cookie, from its start (kept events come first), once
   * signed in: without a session the backend refuses it. Again after the session changed (a persona switch).
   */
  open(): void;
  close(): void;
}

/** In mock mode, the backend's stream (to `open` once signed in); `show` gets each event once. */
export function followBackend(doc: Document, show: (event: BackendEvent) => void): BackendFlow | undefined {
  const base = doc.querySelector<HTMLMetaElement>('meta[name="tmi-bff-mock"]')?.content;
  if (!base || typeof EventSource === 'undefined') return undefined;
  const seen = new Set<number>();
  let source: EventSource | undefined;
  const open = () => {
    source?.close();
    // Same origin: the session cookie goes with it, and picks whose events these are.
    source = new EventSource(`${base}/flow`);
    source.addEventListener('flow', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as BackendEvent;
      if (seen.has(event.id)) return;
      seen.add(event.id);
      show(event);
    });
  };
  return {
    open,
    close: () => source?.close(),
  };
}
