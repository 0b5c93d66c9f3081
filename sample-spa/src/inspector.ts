/**
 * The flow inspector: a `fetch` that records every exchange the page makes (the SDK is given it as
 * its `fetch` option), and a timeline that shows each one with the headers that matter, the body
 * with tokens shortened, decoded JWTs, and the clause that governs it. In mock mode the backend's
 * own exchanges join it (backend-flow.ts), each in its place in time.
 */
import type { BackendEvent } from './backend-flow.js';
import { decodeJwt, redact, shorten } from './display.js';
import { errorRef, REFS, type Ref } from './refs.js';
import { h, json, links } from './view.js';

/** The backend's answer to "where did this token come from" (response header of bff-token). */
export const TOKEN_SOURCE_HEADER = 'TMI-BFF-Token-Source';

const SOURCES: Record<string, string> = {
  cache: 'Backend cache: no call to the AS',
  refresh: 'Backend called the AS: refresh_token grant (RFC 6749 §6)',
  exchange: 'Backend called the AS: token exchange (RFC 8693)',
};

const REQUEST_HEADERS = ['authorization', 'tmi-bff-csrf', 'content-type'];
const RESPONSE_HEADERS = ['content-type', 'cache-control', 'tmi-bff-token-source', 'www-authenticate', 'allow'];

/** What each of the backend's events is, as its line in the timeline says it. */
const BACKEND_KINDS: Record<string, { label: string; refs: Ref[] }> = {
  authorize: {
    label: 'Browser → AS: authorization request (a navigation: PKCE, state, nonce)',
    refs: REFS['sign-in'],
  },
  callback: { label: 'AS → backend: /auth/callback with the code (a navigation)', refs: REFS['sign-in'] },
  code: { label: 'Backend → AS: code redemption (authorization_code grant, RFC 6749 §4.1.3)', refs: REFS['sign-in'] },
  refresh: { label: 'Backend → AS: refresh_token grant (RFC 6749 §6)', refs: REFS.token },
  exchange: { label: 'Backend → AS: token exchange (RFC 8693)', refs: REFS.token },
  revocation: { label: 'Backend → AS: refresh token revoked (RFC 7009)', refs: REFS['sign-out'] },
  'sign-out': { label: 'Backend: sign-out, session and grant forgotten', refs: REFS['sign-out'] },
  'backchannel-logout': { label: 'AS → backend: back-channel logout (OIDC BCL 1.0)', refs: [] },
};

/** `4 min 12 s`, `12 s`, `2 h 5 min`: a span of seconds for reading. */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

/** A JWT's `iat` and `exp` said relative to now: "issued 12 s ago", "expires in 4 min 12 s". */
export function lifetime(claims: unknown, nowMs = Date.now()): string | undefined {
  const { iat, exp } = (claims ?? {}) as { iat?: unknown; exp?: unknown };
  const now = nowMs / 1000;
  const parts = [
    typeof iat === 'number' && (iat <= now ? `issued ${span(now - iat)} ago` : `issued in ${span(iat - now)}`),
    typeof exp === 'number' && (exp > now ? `expires in ${span(exp - now)}` : `expired ${span(now - exp)} ago`),
  ].filter((p): p is string => typeof p === 'string');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

export interface Exchange {
  n: number;
  method: string;
  url: URL;
  /** Undefined when no answer came. */
  status?: number;
  ms: number;
  source?: string | undefined;
  error?: string | undefined;
}

export interface Inspector {
  /** A `fetch` that records what goes through it. */
  fetch: typeof fetch;
  /** A line in the timeline for what no script can see (navigations) or what needed no request. */
  note(text: string, refs?: Ref[]): void;
  /** One of the backend's own exchanges (backend-flow.ts), placed by when it started. */
  backend(event: BackendEvent): void;
  /** The newest exchange, if any. */
  last(): Exchange | undefined;
  clear(): void;
}

function kindOf(url: URL, origin: string) {
  if (url.origin !== origin) return 'api' as const;
  if (url.pathname.endsWith('/bff-token')) return 'token' as const;
  if (url.pathname.endsWith('/bff-sessioninfo')) return 'sessioninfo' as const;
  return 'other' as const;
}

function headerRows(headers: Headers, names: string[], extra: Array<[string, string]> = []): HTMLElement | false {
  const rows: Array<[string, string]> = [...extra];
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) rows.push([name, name === 'authorization' ? value.replace(/\S+$/, (t) => shorten(t)) : value]);
  }
  return rows.length > 0 && h('pre', { class: 'headers' }, rows.map(([k, v]) => `${k}: ${v}`).join('\n'));
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** D11 (TMI-45): after a resource server's 401, the SDK asks once for a fresh token, then retries. */
function retryOf(kind: ReturnType<typeof kindOf>, url: URL, previous: Exchange | undefined): string | undefined {
  const afterApi401 = previous?.status === 401 && previous.url.origin !== url.origin;
  return kind === 'token' && url.searchParams.get('fresh') === '1' && afterApi401
    ? 'D11 retry: a fresh token after the API’s 401'
    : undefined;
}

export function createInspector(list: HTMLOListElement, origin: string, base: typeof fetch = fetch): Inspector {
  let n = 0;
  let newest: Exchange | undefined;

  /** Kept in order of start time: the backend's events arrive later than they happened. */
  function add(item: HTMLLIElement, startedAt = Date.now()) {
    item.dataset.at = String(startedAt);
    const later = [...list.children].find((li) => Number((li as HTMLElement).dataset.at) > startedAt);
    list.insertBefore(item, later ?? null);
    // On wide screens the list scrolls by itself; keep the newest in view without moving the page.
    list.scrollTop = list.scrollHeight;
  }

  // #region walkthrough:inspector-fetch
  const recording: typeof fetch = async (input, init = {}) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const kind = kindOf(url, origin);
    const started = performance.now();
    const exchange: Exchange = { n: ++n, method: request.method, url, ms: 0 };
    const startedAt = Date.now();
    const retry = retryOf(kind, url, newest);
    newest = exchange;
    let response: Response | undefined;
    let bodyText = '';
    try {
      response = await base(input, init);
      bodyText = await response.clone().text();
      exchange.status = response.status;
      exchange.source = response.headers.get(TOKEN_SOURCE_HEADER) ?? undefined;
      return response;
    } catch (err) {
      exchange.error = (err as Error).message;
      throw err;
    } finally {
      exchange.ms = Math.round(performance.now() - started);
      add(render(exchange, kind, request, init, response, bodyText, retry), startedAt);
    }
  };
  // #endregion

  function render(
    ex: Exchange,
    kind: ReturnType<typeof kindOf>,
    request: Request,
    init: RequestInit,
    response: Response | undefined,
    bodyText: string,
    retry?: string,
  ): HTMLLIElement {
    const where = ex.url.origin === origin ? ex.url.pathname : `${ex.url.origin}${ex.url.pathname}`;
    // Decoded for reading (the wire form is percent-encoded, with + for spaces).
    const params = [...ex.url.searchParams].map(([k, v]) => `${k}=${v}`).join('&');
    const query = params ? `?${params}` : '';
    const ok = ex.status !== undefined && ex.status < 400;
    const body = parse(bodyText) as Record<string, unknown> | string;
    const wireError = typeof body === 'object' && body && typeof body.error === 'string' ? body.error : undefined;
    const decoded =
      typeof body === 'object' && body && typeof body.access_token === 'string'
        ? decodeJwt(body.access_token)
        : undefined;
    const refs = [...(REFS[kind === 'other' ? 'token' : kind] ?? []).slice(0, 2)];
    if (wireError && kind !== 'api') refs.push(errorRef(wireError));
    // Same-origin calls carry the session cookie; it is HttpOnly, so no script (this one included) sees it.
    const cookieNote: Array<[string, string]> =
      kind !== 'api' && init.credentials !== 'omit'
        ? [['cookie', 'bff-session=… (HttpOnly: sent by the browser, invisible to scripts)']]
        : [];
    const requestBody = typeof init.body === 'string' ? parse(init.body) : undefined;

    return h(
      'li',
      { class: `exchange ${ok ? 'ok' : 'failed'}` },
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('span', { class: 'num' }, `#${ex.n}`),
          ' ',
          h('span', { class: 'method' }, ex.method),
          ' ',
          h('span', { class: 'url' }, `${where}${query}`),
          ' → ',
          h('span', { class: 'status' }, ex.status === undefined ? 'no answer' : String(ex.status)),
          h('span', { class: 'ms' }, ` ${ex.ms} ms`),
          ex.source && h('span', { class: `badge source-${ex.source}` }, ex.source),
          wireError && h('span', { class: 'badge error' }, wireError),
          retry && h('span', { class: 'badge retry' }, retry),
        ),
        retry && h('p', { class: 'source' }, `${retry}: the SDK retries the call once with it, and stops there.`),
        ex.source && h('p', { class: 'source' }, SOURCES[ex.source] ?? ex.source),
        ex.error && h('p', { class: 'source' }, `The request failed: ${ex.error}`),
        h('h4', {}, 'Request'),
        headerRows(request.headers, REQUEST_HEADERS, cookieNote),
        requestBody !== undefined && json(requestBody),
        response && h('h4', {}, 'Response'),
        response && headerRows(response.headers, RESPONSE_HEADERS),
        response && bodyText && json(redact(body)),
        decoded && h('h4', {}, 'The access token, decoded (for you; the app treats it as opaque)'),
        decoded && h('p', { class: 'lifetime' }, lifetime(decoded.claims) ?? ''),
        decoded && json(decoded),
        h('p', { class: 'refs' }, links(refs)),
      ),
    );
  }

  return {
    fetch: recording,
    note(text, refs = []) {
      add(h('li', { class: 'note' }, h('p', {}, text), refs.length > 0 && h('p', { class: 'refs' }, links(refs))));
    },
    backend(event) {
      const kind = BACKEND_KINDS[event.kind] ?? { label: event.kind, refs: [] };
      const outcome = typeof event.data.outcome === 'string' ? event.data.outcome : undefined;
      const failed = outcome !== undefined && !['ok', 'revoked'].includes(outcome);
      // A navigation's time is the browser's stay at the AS: until the callback came back.
      const took =
        event.ms !== undefined
          ? `${event.ms} ms`
          : event.kind === 'authorize'
            ? 'until the callback'
            : new Date(event.at).toLocaleTimeString();
      const item = h(
        'li',
        { class: `exchange backend ${failed ? 'failed' : 'ok'}`, 'data-kind': event.kind },
        h(
          'details',
          {},
          h(
            'summary',
            {},
            h('span', { class: 'badge backend' }, 'backend'),
            ' ',
            h('span', { class: 'url' }, kind.label),
            outcome ? ` → ${outcome}` : '',
            h('span', { class: 'ms' }, ` ${took}`),
          ),
          h(
            'p',
            { class: 'source' },
            'Seen by the backend (mock mode): secrets shortened, refresh tokens never shown.',
          ),
          json(event.data),
          kind.refs.length > 0 && h('p', { class: 'refs' }, links(kind.refs.slice(0, 2))),
        ),
      );
      if (event.kind === 'callback') {
        const authorize = [...list.querySelectorAll<HTMLElement>('li[data-kind="authorize"] .ms')].at(-1);
        const at = Number(authorize?.closest('li')?.dataset.at);
        if (authorize && at) authorize.textContent = ` ${span((event.at - at) / 1000)} at the AS`;
      }
      add(item, event.at - (event.ms ?? 0));
    },
    last: () => newest,
    clear() {
      list.replaceChildren();
    },
  };
}
