/**
 * The flow inspector's view of the backend, in mock mode only (mock-mode.ts): what the backend itself
 * says to the AS on a session's behalf, which the browser cannot see. The authorization request it
 * redirects to, the callback, the code redemption, each refresh, exchange and revocation, sign-out
 * and back-channel logout, each with its duration. Published per session, and streamed to that
 * session's browser only (GET /_mock/flow, admin.ts): Server-Sent Events, replayed from a short
 * history so a page that was away (the sign-in's navigations) still sees what happened meanwhile.
 *
 * Secrets never leave whole: tokens, codes, `state`, `nonce` and the PKCE challenge are shortened
 * (`short`), and a refresh token is only said to exist.
 *
 * Walkthrough: docs/walkthrough/06-sample-spa.md.
 */
import type { AsCall, GrantResult } from '@tmi-bff/koa';

export type FlowKind =
  | 'authorize'
  | 'callback'
  | 'code'
  | 'refresh'
  | 'exchange'
  | 'revocation'
  | 'sign-out'
  | 'backchannel-logout';

/** One event of a session's flow, as the inspector shows it. */
export interface FlowEvent {
  /** Increasing: a reconnecting stream (`Last-Event-ID`) resumes after it. */
  id: number;
  kind: FlowKind;
  /** Epoch ms when it ended. */
  at: number;
  /** How long it took, in ms, for a request to the AS. */
  ms?: number;
  /** What it carried, secrets shortened. */
  data: Record<string, unknown>;
}

/** `abcdef…wxyz`: enough to match two values by eye, never enough to use one. */
export function short(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.length <= 12 ? `… (${value.length} chars)` : `${value.slice(0, 6)}…${value.slice(-4)}`;
}

/** A token response, reduced to what may be shown: types and lifetimes, tokens shortened, no refresh token. */
export function tokenAnswer(result: Partial<GrantResult>): Record<string, unknown> {
  return {
    token_type: 'Bearer',
    access_token: short(result.access_token),
    ...(result.expires_in !== undefined ? { expires_in: result.expires_in } : {}),
    ...(result.scope !== undefined ? { scope: result.scope } : {}),
    ...(result.id_token ? { id_token: short(result.id_token) } : {}),
    // RFC 9700 §4.14: never shown, not even shortened: only whether one came (a rotation).
    refresh_token: result.refresh_token ? 'issued (kept by the backend, never shown)' : 'none',
  };
}

/** An error thrown by a request to the AS, as `error` and its description. */
export function errorAnswer(err: unknown): Record<string, unknown> {
  const e = err as { error?: unknown; error_description?: unknown; message?: unknown };
  return {
    error: typeof e.error === 'string' ? e.error : 'no_answer',
    ...(typeof e.error_description === 'string' || typeof e.message === 'string'
      ? { error_description: String(e.error_description ?? e.message) }
      : {}),
  };
}

/** The `onAs` event of the token layer (token-service.ts), as a flow event. */
export function fromAsCall(call: AsCall): { kind: FlowKind; ms: number; data: Record<string, unknown> } {
  const { answer, request } = call;
  const asked = {
    ...(call.kind === 'revocation'
      ? { token_type_hint: 'refresh_token' }
      : {
          grant_type: call.kind === 'refresh' ? 'refresh_token' : 'urn:ietf:params:oauth:grant-type:token-exchange',
          resource: request.resources ?? [],
          ...(request.scope ? { scope: request.scope } : {}),
        }),
  };
  const outcome =
    'result' in answer
      ? { outcome: 'ok', ...tokenAnswer(answer.result) }
      : 'revocation' in answer
        ? answer.revocation.revoked
          ? { outcome: 'revoked' }
          : { outcome: answer.revocation.reason, error_description: answer.revocation.description }
        : { outcome: 'error', ...errorAnswer(answer.error) };
  return { kind: call.kind, ms: Math.round(call.durationMs), data: { ...asked, ...outcome } };
}

/** Per session: so many events kept for a stream that connects later, for so long. */
const KEEP = { events: 100, sessions: 1000, ms: 3600_000 };

type Listener = (event: FlowEvent) => void;

/** The events of each session (or of a sign-in not yet a session: `signInKey`), and their listeners. */
export class FlowEvents {
  #next = 1;
  readonly #kept = new Map<string, { events: FlowEvent[]; touched: number }>();
  readonly #listeners = new Map<string, Set<Listener>>();

  /** The key of a sign-in's events until its callback makes it a session (`move`). */
  static signInKey(state: string): string {
    return `sign-in ${state}`;
  }

  publish(key: string, kind: FlowKind, data: Record<string, unknown>, ms?: number): void {
    const event: FlowEvent = { id: this.#next++, kind, at: Date.now(), ...(ms === undefined ? {} : { ms }), data };
    this.#keep(key, [event]);
    for (const listener of this.#listeners.get(key) ?? []) listener(event);
  }

  /** A sign-in's events become its session's (the callback), kept in order before the session's own. */
  move(from: string, to: string): void {
    const moved = this.#kept.get(from)?.events ?? [];
    this.#kept.delete(from);
    this.#keep(to, moved);
    for (const event of moved) for (const listener of this.#listeners.get(to) ?? []) listener(event);
  }

  /** The kept events of `key` after the event `after`, oldest first. */
  since(key: string, after = 0): FlowEvent[] {
    return (this.#kept.get(key)?.events ?? []).filter((e) => e.id > after);
  }

  subscribe(key: string, listener: Listener): () => void {
    const set = this.#listeners.get(key) ?? new Set();
    set.add(listener);
    this.#listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(key);
    };
  }

  #keep(key: string, events: FlowEvent[]): void {
    const now = Date.now();
    const kept = this.#kept.get(key) ?? { events: [], touched: now };
    this.#kept.delete(key); // re-inserted last: the Map's order is the order of use
    kept.events = [...kept.events, ...events].sort((a, b) => a.id - b.id).slice(-KEEP.events);
    kept.touched = now;
    this.#kept.set(key, kept);
    for (const [old, { touched }] of this.#kept) {
      if (this.#kept.size <= KEEP.sessions && now - touched < KEEP.ms) break;
      this.#kept.delete(old);
    }
  }
}
