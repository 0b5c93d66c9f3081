/**
 * The flow inspector: a `fetch` that records every exchange the page makes (the SDK is given it as
 * its `fetch` option), and a timeline that shows each one with the headers that matter, the body
 * with tokens shortened, decoded JWTs, and the clause that governs it.
 */
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

export function createInspector(list: HTMLOListElement, origin: string, base: typeof fetch = fetch): Inspector {
  let n = 0;
  let newest: Exchange | undefined;

  function add(item: HTMLLIElement) {
    list.append(item);
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
      add(render(exchange, kind, request, init, response, bodyText));
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
        ),
        ex.source && h('p', { class: 'source' }, SOURCES[ex.source] ?? ex.source),
        ex.error && h('p', { class: 'source' }, `The request failed: ${ex.error}`),
        h('h4', {}, 'Request'),
        headerRows(request.headers, REQUEST_HEADERS, cookieNote),
        requestBody !== undefined && json(requestBody),
        response && h('h4', {}, 'Response'),
        response && headerRows(response.headers, RESPONSE_HEADERS),
        response && bodyText && json(redact(body)),
        decoded && h('h4', {}, 'The access token, decoded (for you; the app treats it as opaque)'),
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
    last: () => newest,
    clear() {
      list.replaceChildren();
    },
  };
}
