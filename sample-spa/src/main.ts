/**
 * The sample SPA: the seven steps of the demo, one block each, after the prerequisites. Every
 * request goes through @tmi-bff/client, whose `fetch` option is the flow inspector's recorder.
 *
 * Walkthrough: docs/walkthrough/06-sample-spa.md.
 */
import { type BffClient, BffResponseError, createBffClient, ERROR_CODES, isBffError } from '@tmi-bff/client';
import { mountScenarioKnobs } from './admin-panel.js';
import { followBackend } from './backend-flow.js';
import { shorten, time } from './display.js';
import { mountDocsView } from './docs-view.js';
import { adviceContext, adviceFor, consentHref, type Wanted } from './explain.js';
import { createInspector } from './inspector.js';
import { allowedScopes, downscopeDemo, personaOf, stepNotes } from './persona.js';
import { REFS, type RefKey } from './refs.js';
import { type Persona, readSettings, resourceWith } from './settings.js';
import { alert, busy, byId, describeAct, facts, h, json, links, show, stepNotes as showStepNotes } from './view.js';

// Prerequisites
// #region walkthrough:spa-prerequisites
const settings = readSettings(document);
const inspector = createInspector(byId<HTMLOListElement>('exchanges'), location.origin);
// The endpoint paths come from the page's <meta> tags (D1); the CSRF header is sent on every call (D4).
const bff: BffClient = createBffClient({ fetch: inspector.fetch });
// #endregion
const stocks = resourceWith(settings, 'stocks:read');
const serviceA = resourceWith(settings, 'a', true);
const notAtSignIn = settings.resources.find((r) => !r.atSignIn);

for (const el of document.querySelectorAll<HTMLElement>('[data-refs]')) {
  el.append(links(REFS[el.dataset.refs as RefKey] ?? []));
}
byId('inspector-clear').addEventListener('click', () => inspector.clear());
// In mock mode the backend tells the inspector what it did for this session (backend-flow.ts).
const backendFlow = followBackend(document, (event) => inspector.backend(event));
// The walkthrough links open their chapter here, beside the inspector (docs-view.ts).
mountDocsView(document);

// #region walkthrough:spa-on-click
/** Wires a button: busy while it runs; an SDK error becomes advice in the step's result area. */
function onClick(buttonId: string, resultId: string, run: (out: HTMLElement) => Promise<void>, wanted?: Wanted) {
  const button = byId<HTMLButtonElement>(buttonId);
  const out = byId(resultId);
  button.addEventListener('click', () =>
    busy(button, out, () => run(out)).catch((err: unknown) => show(out, alert(adviceFor(err, wanted)))),
  );
}
// #endregion

/** Where a token came from: the SDK's memory (no request), or the backend's `TMI-BFF-Token-Source`. */
async function tokenFrom(client: BffClient, wanted: Wanted & { fresh?: boolean }) {
  const before = inspector.last();
  const token = await client.getToken(wanted);
  const after = inspector.last();
  const source = after === before ? 'SDK memory: no request (TMI-42)' : `backend: ${after?.source ?? 'unknown'}`;
  return { token, source };
}

function tokenFacts(t: Awaited<ReturnType<typeof tokenFrom>>): HTMLElement {
  return facts([
    ['access_token', h('code', {}, shorten(t.token.access_token))],
    ['expires_in', `${t.token.expires_in} s`],
    ['scope', h('code', {}, t.token.scope ?? '(none)')],
    ['answered from', t.source],
  ]);
}

// Step 1: sign in (a navigation to the backend's /auth/login; the AS shows the personas)
{
  byId('personas').append(
    ...settings.personas.map((p) => h('li', {}, h('strong', {}, p.username), ` (${p.name}): ${p.persona}`)),
  );
  const after = new URLSearchParams(location.search).get('after');
  if (after === 'sign-in') {
    inspector.note(
      'Signed in: /auth/login → the AS (authorize, log in, consent) → /auth/callback → here. ' +
        'These were navigations, which no script can record; the backend redeemed the code and keeps the refresh token ' +
        '(in mock mode the backend reports each of them in this timeline).',
      REFS['sign-in'],
    );
  } else if (after === 'consent') {
    adviceContext.consentedFor = new URLSearchParams(location.search).get('for') ?? undefined;
    inspector.note('Back from /auth/consent: the session’s grant now covers what you granted (D13).', REFS.errors);
  }
  if (after) history.replaceState(null, '', '/');
}

// Who is signed in decides what each step will show, said before the reader clicks (persona.ts).
let renderScopes = () => {};
let labelDownscope = () => {};
function personaChanged(persona: Persona | undefined) {
  adviceContext.persona = persona;
  showStepNotes(persona ? `${persona.name} (${persona.username})` : '', persona && stepNotes(settings, persona));
  renderScopes();
  labelDownscope();
}

// Step 2: who is signed in (bff-sessioninfo; the name never comes from an access token)
async function whoAmI(): Promise<Record<string, unknown> | undefined> {
  const who = byId('who');
  try {
    const info = await bff.getSessionInfo();
    const name = typeof info.name === 'string' ? info.name : String(info.sub);
    show(who, 'Signed in as ', h('strong', { id: 'user-name' }, name), ` (${String(info.sub)})`);
    document.body.dataset.session = 'yes';
    personaChanged(personaOf(settings, info.sub));
    return info;
  } catch (err) {
    document.body.dataset.session = 'no';
    personaChanged(undefined);
    if (isBffError(err, ERROR_CODES.INVALID_SESSION)) show(who, 'Not signed in. Start with step 1.');
    else show(who, `Could not ask the backend: ${(err as Error).message}`);
    throw err;
  }
}
{
  onClick('session-info', 'session-result', async (out) => {
    const info = await whoAmI();
    show(
      out,
      facts([
        ['name', String(info?.name ?? '')],
        ['auth_time', time(info?.auth_time)],
      ]),
      json(info),
    );
  });
  whoAmI()
    .then(() => backendFlow?.open())
    .catch(() => {});
}

// Step 3: get an access token; see the SDK's memory, the backend's cache, and downscoping
{
  const select = byId<HTMLSelectElement>('resource');
  const scopes = byId<HTMLFieldSetElement>('scopes');
  const out = byId('token-result');
  select.append(
    ...settings.resources.map((r) =>
      h('option', { value: r.identifier }, `${r.name} (${r.identifier})${r.atSignIn ? '' : ' (not asked at sign-in)'}`),
    ),
  );
  renderScopes = () => {
    const resource = settings.resources.find((r) => r.identifier === select.value);
    // What this persona's account policy denies starts unchecked (step 3's note says why).
    const allowed = allowedScopes(adviceContext.persona, resource);
    scopes.replaceChildren(
      h('legend', {}, 'Scopes'),
      ...Object.entries(resource?.scopes ?? {}).map(([scope, what]) =>
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            name: 'scope',
            value: scope,
            checked: allowed.includes(scope) ? '' : undefined,
          }),
          ' ',
          h('code', {}, scope),
          `: ${what}`,
        ),
      ),
    );
  };
  select.addEventListener('change', () => renderScopes());
  renderScopes();

  const wanted = (): Wanted & { fresh: boolean } => ({
    resource: select.value,
    scope: [...scopes.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value).join(' '),
    fresh: byId<HTMLInputElement>('fresh').checked,
  });
  const submit = byId<HTMLButtonElement>('get-token');
  byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const w = wanted();
    busy(submit, out, async () => show(out, tokenFacts(await tokenFrom(bff, w)))).catch((err: unknown) =>
      show(out, alert(adviceFor(err, w))),
    );
  });

  // Ask for stocks:read after holding stocks:read stocks:buy: the backend narrows at the AS (D9).
  // A persona who may not hold both asks on a resource where it may (persona.ts downscopeDemo).
  const demo = () =>
    downscopeDemo(settings, adviceContext.persona) ?? {
      resource: stocks,
      held: Object.keys(stocks?.scopes ?? {}).join(' '),
      narrow: 'stocks:read',
    };
  const downscope = byId<HTMLButtonElement>('downscope');
  labelDownscope = () => {
    const d = demo();
    downscope.textContent = `Downscope ${d.resource?.name ?? ''} to ${d.narrow}`;
  };
  labelDownscope();
  byId('downscope').addEventListener('click', () => {
    const d = demo();
    const narrow = { resource: d.resource?.identifier, scope: d.narrow };
    busy(downscope, out, async () => {
      const broad = await tokenFrom(bff, { resource: d.resource?.identifier, scope: d.held });
      const downscoped = await tokenFrom(bff, narrow);
      show(
        out,
        h('h3', {}, `Held: ${d.held}`),
        tokenFacts(broad),
        h('h3', {}, `Asked for: ${d.narrow}`),
        tokenFacts(downscoped),
      );
    }).catch((err: unknown) => show(out, alert(adviceFor(err, { resource: d.resource?.identifier, scope: d.held }))));
  });

  byId('forget').addEventListener('click', () => {
    bff.clear();
    inspector.note('The SDK forgot every token it held: the next getToken() asks the backend.');
    show(out, 'Forgotten. Ask again: the backend answers from its own cache.');
  });
}

// Step 4: call the API directly, with the token (D11: one fresh token and one retry after invalid_token)
async function callApi(out: HTMLElement, url: string, init: RequestInit & Wanted) {
  // bff.fetch gets a token for init.resource and init.scope, then calls the API with it.
  const res = await bff.fetch(url, init);
  const body = await res.json().catch(() => undefined);
  const challenge = res.headers.get('www-authenticate');
  show(
    out,
    h('p', { class: res.ok ? 'ok' : 'failed' }, `${init.method ?? 'GET'} ${new URL(url).pathname} → ${res.status}`),
    challenge && h('p', {}, 'WWW-Authenticate: ', h('code', {}, challenge)),
    json(body),
  );
  return body;
}
if (stocks) {
  const read = { resource: stocks.identifier, scope: 'stocks:read' };
  const buy = { resource: stocks.identifier, scope: 'stocks:buy' };
  onClick('quotes', 'api-result', (out) => callApi(out, `${stocks.identifier}/quotes`, read), read);
  onClick('portfolio', 'api-result', (out) => callApi(out, `${stocks.identifier}/portfolio`, read), read);
  onClick(
    'buy',
    'api-result',
    (out) =>
      callApi(out, `${stocks.identifier}/orders`, {
        ...buy,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ symbol: 'ACME', quantity: 1 }),
      }),
    buy,
  );
  // D11 (TMI-45): a token the API rejects (addressed to Service A, not to Stocks) → 401 invalid_token →
  // one fresh token from the backend → one retry → still rejected → TOKEN_REJECTED, and no loop.
  const wrong = { resource: serviceA?.identifier, scope: Object.keys(serviceA?.scopes ?? {}).join(' ') };
  onClick('wrong-audience', 'api-result', (out) => callApi(out, `${stocks.identifier}/quotes`, wrong), wrong);
}

// Step 5: every error of the draft, and what the app does next (TMI-BFF-01 §4.3, TMI-44)
{
  const out = byId('errors-result');
  const read = { resource: stocks?.identifier, scope: 'stocks:read', fresh: true };

  // A request without the session cookie: what any page of another site would send.
  const cookieless = createBffClient({
    fetch: (input, init) => inspector.fetch(input, { ...init, credentials: 'omit' }),
  });
  onClick('err-no-session', 'errors-result', async () => {
    await tokenFrom(cookieless, read);
    show(out, 'Unexpected: the backend answered without a session.');
  });

  // D4: without the custom header the backend refuses, whatever the cookie.
  const headerless = createBffClient({ fetch: inspector.fetch, csrfHeader: 'X-Not-The-Csrf-Header' });
  onClick('err-no-csrf', 'errors-result', async () => {
    try {
      await tokenFrom(headerless, read);
      show(out, 'Unexpected: the backend answered without the CSRF header.');
    } catch (err) {
      if (!(err instanceof BffResponseError)) throw err;
      show(
        out,
        alert({
          title: `Refused without the CSRF header (${err.error})`,
          text:
            `“${err.error_description ?? ''}”. Every call must carry TMI-BFF-CSRF: 1, which a cross-site form or ` +
            'image cannot send and a cross-origin script cannot send without a CORS preflight the backend refuses. ' +
            'The SDK always sends it; this button used a client set up with another header.',
          actions: [],
          refs: [{ label: 'Profile decision D4', href: '/docs/deviations.md' }, ...REFS.errors.slice(2, 3)],
        }),
      );
    }
  });

  // TMI-27: a resource sign-in did not ask for; the remediation is the backend's consent route (D13).
  const notReady = { resource: notAtSignIn?.identifier, scope: Object.keys(notAtSignIn?.scopes ?? {}).join(' ') };
  onClick(
    'err-not-ready',
    'errors-result',
    async () => {
      const t = await tokenFrom(bff, { ...notReady, fresh: true });
      show(
        out,
        h('p', {}, `The backend got a token for ${notAtSignIn?.name}: your grant covers it now (granted through `),
        h('a', { href: consentHref(notReady) }, '/auth/consent'),
        ').',
        tokenFacts(t),
      );
    },
    notReady,
  );

  // TMI-28: the AS refuses and the backend relays its error as it is.
  const buy = { resource: stocks?.identifier, scope: 'stocks:buy' };
  onClick(
    'err-forbidden',
    'errors-result',
    async () => {
      const t = await tokenFrom(bff, { ...buy, fresh: true });
      show(
        out,
        h('p', {}, 'The AS granted stocks:buy: this persona may buy. Sign in as bob to see a refusal.'),
        tokenFacts(t),
      );
    },
    buy,
  );
  const unknown = { resource: stocks?.identifier, scope: 'stocks:sell' };
  onClick(
    'err-unknown-scope',
    'errors-result',
    async () => {
      await tokenFrom(bff, { ...unknown, fresh: true });
      show(out, 'Unexpected: the AS granted a scope it does not define.');
    },
    unknown,
  );
}

// Step 6: the A → B → C chain; each service exchanges its token for the next hop (RFC 8693)
if (serviceA) {
  const wanted = { resource: serviceA.identifier, scope: Object.keys(serviceA.scopes).join(' ') };
  onClick(
    'chain',
    'chain-result',
    async (out) => {
      const res = await bff.fetch(`${serviceA.identifier}/chain`, wanted);
      const body = (await res.json().catch(() => undefined)) as { hops?: Array<Record<string, unknown>> } | undefined;
      if (!res.ok || !Array.isArray(body?.hops)) {
        show(out, h('p', { class: 'failed' }, `GET /a/chain → ${res.status}`), json(body));
        return;
      }
      const cells = ['service', 'aud', 'scope', 'client_id', 'sub', 'act', 'exp'];
      show(
        out,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'hops' },
            h('caption', {}, 'Each hop’s access token, as that service saw it'),
            h('thead', {}, h('tr', {}, ...cells.map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              ...body.hops.map((hop) =>
                h(
                  'tr',
                  {},
                  ...cells.map((c) =>
                    c === 'act'
                      ? h('td', { class: 'act' }, describeAct(hop.act, hop.client_id, hop.sub))
                      : h('td', {}, c === 'exp' ? time(hop[c]) : String(hop[c] ?? '')),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    },
    wanted,
  );
}

// Step 7: sign out (a form POST: the backend revokes, forgets, and ends the AS session)
{
  byId<HTMLFormElement>('sign-out-form').addEventListener('submit', () => bff.clear());
}

// Scenario knobs: in mock mode only, the backend's development-only admin API (admin-panel.ts)
mountScenarioKnobs(document, {
  fetch: inspector.fetch,
  personas: settings.personas.map((p) => p.username),
  onSessionChange: () => {
    bff.clear();
    backendFlow?.open();
    whoAmI().catch(() => {});
  },
});
