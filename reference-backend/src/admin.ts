/**
 * The scenario knobs: a development-only admin API that makes, at run time, the faults a frontend
 * must handle (`invalid_session`, `backend_not_ready`, a relayed `invalid_grant`,
 * `temporarily_unavailable`). Mounted only in mock mode (mock-mode.ts); never by @tmi-bff/koa.
 *
 * | route name                 | method | path                         | body                       |
 * |----------------------------|--------|------------------------------|----------------------------|
 * | mock.state                 | GET    | /_mock/state                 |                            |
 * | mock.session.expire-tokens | POST   | /_mock/session/expire-tokens |                            |
 * | mock.session.lifetime      | POST   | /_mock/session/lifetime      | `{ seconds }`              |
 * | mock.session.revoke-grant  | POST   | /_mock/session/revoke-grant  |                            |
 * | mock.session.persona       | POST   | /_mock/session/persona       | `{ persona }`              |
 * | mock.as.fail               | POST   | /_mock/as/fail               | `{ count, error?, error_description?, status?, delayMs? }` |
 * | mock.as.down / mock.as.up  | POST   | /_mock/as/down, /_mock/as/up |                            |
 * | mock.flow                  | GET    | /_mock/flow                  | (Server-Sent Events, flow-stream.ts) |
 *
 * Every route but the read-only event stream has the endpoints' CSRF defence (D4) and JSON errors; the session knobs act on the
 * session of the cookie they carry. The AS knobs are faults of the mock AS itself, and the persona
 * knob a sign-in that the mock AS runs for that persona: both made over HTTP at the mock AS's control
 * routes (`mock.control`, BFF_MOCK_AS_CONTROL; mock-as/src/faults.ts), so they work whether the AS
 * runs in this process or in another one. This module knows those routes' URLs only, not the mock AS.
 */
import {
  allowMethods,
  BackendNotReady,
  CSRF_HEADER,
  describeAsFailure,
  errorHandler,
  InvalidRequest,
  noStore,
  requireSameOrigin,
  requireSession,
  ServerError,
  sendJson,
  sessionOf,
  TemporarilyUnavailable,
  type TmiBff,
  type TokenService,
} from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context, Middleware, Next } from 'koa';
import type { BackendConfig } from './config.js';
import type { FlowEvents } from './flow-events.js';
import { flowStream, refuseOtherOrigins } from './flow-stream.js';
import { AUTH_PATHS } from './paths.js';
import type { GrantLifecycle } from './session/grant-lifecycle.js';
import { cookieNames } from './session/session.js';
import { STORE_KEYS } from './store-keys.js';

export const ADMIN_BASE = '/_mock';

/** Put in the sample SPA's head in mock mode: the panel of knobs shows only when it is there. */
export const MOCK_META = `<meta name="tmi-bff-mock" content="${ADMIN_BASE}">`;

export interface AdminRoute {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  stack: Middleware[];
}

export interface AdminDeps {
  config: BackendConfig;
  bff: TmiBff;
  tokens: TokenService;
  store: KeyValueStore;
  grants: GrantLifecycle;
  log: (line: string) => void;
  /** The backend's own exchanges, per session, for the flow inspector. */
  flow: FlowEvents;
}

/** A knob's body: small JSON objects only. */
const BODY_LIMIT = 1024;

/** Reads the JSON object of a POST; an empty body is `{}`. Anything else is a 400, never a 500. */
async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  if (Number(ctx.get('content-length') || 0) > BODY_LIMIT)
    throw new InvalidRequest(`the body is over ${BODY_LIMIT} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new InvalidRequest(`the body is over ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (!ctx.is('application/json')) throw new InvalidRequest('the body must be application/json');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidRequest('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequest('the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

const bodyOf = (ctx: Context) => ctx.state.mockBody as Record<string, unknown>;

async function parseBody(ctx: Context, next: Next): Promise<void> {
  ctx.state.mockBody = await readJsonObject(ctx);
  await next();
}

/** koa-session's store key of a session (session/session.ts). */
const sessionStoreKey = STORE_KEYS.session;

export function adminRoutes({ config, bff, tokens, store, grants, log, flow }: AdminDeps): AdminRoute[] {
  const names = cookieNames(config.origin);
  /**
   * The mock AS's control routes take the backend's client credentials (RFC 6749 §2.3.1 HTTP Basic),
   * so they need a client with a secret.
   */
  function control(): { base: string; authorization: string } {
    const base = config.mock?.control?.replace(/\/$/, '');
    if (!base) {
      throw new InvalidRequest(
        'mock mode was started without BFF_MOCK_AS_CONTROL, the mock AS control URL (npm run dev sets it)',
      );
    }
    const { id, secret } = config.client;
    if (!secret) {
      throw new InvalidRequest(
        "the mock AS's control routes take HTTP Basic with a client secret; this client has none (BFF_CLIENT_AUTH)",
      );
    }
    const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
    return { base, authorization: `Basic ${basic}` };
  }

  /** Calls one of the mock AS's control routes; its JSON answer. */
  async function atAs(path: string, body?: Record<string, unknown>): Promise<unknown> {
    const { base, authorization } = control();
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(config.tokens.asTimeoutMs),
      });
    } catch (err) {
      const failure = describeAsFailure(err, config.issuer);
      throw new TemporarilyUnavailable(failure.description, { detail: failure.detail });
    }
    const answer = (await res.json().catch(() => undefined)) as { error_description?: string } | undefined;
    if (res.status === 400) throw new InvalidRequest(answer?.error_description ?? 'the AS refused it');
    if (res.status === 404 && answer === undefined) {
      throw new InvalidRequest(
        `the authorization server at ${base} has no control routes: start the mock AS with MOCK_AS_FAULTS=1`,
      );
    }
    if (!res.ok) throw new ServerError(`${base}${path} answered ${res.status}`);
    return answer;
  }

  /** The session's grant, with every cached access token expired now. */
  async function expireCachedTokens(sessionId: string): Promise<number> {
    const expired = await tokens.expireCachedTokens(sessionId);
    if (expired === undefined) throw new BackendNotReady('this session holds no grant');
    return expired;
  }

  /**
   * A new session for `persona`, through the real code flow of this backend: its own sign-in starts
   * the authorization request, the mock AS signs the persona in, and its own callback redeems the
   * code. Returns the session's Set-Cookie headers.
   */
  async function signInAs(persona: string): Promise<string[]> {
    const own = (url: string, cookie?: string) =>
      fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(10_000) });
    const start = await own(`${config.origin}${AUTH_PATHS.login}?returnTo=/`);
    const authorizationUrl = start.headers.get('location');
    // D6: the sign-in's page says why (the AS not answering, most likely); this session is kept.
    if (start.status !== 303 || !authorizationUrl) {
      throw new TemporarilyUnavailable(
        `the sign-in as ${persona} could not start (it answered ${start.status}); try again`,
      );
    }
    const transaction = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const { location } = (await atAs('/sign-in', { authorization_url: authorizationUrl, persona })) as {
      location?: unknown;
    };
    if (typeof location !== 'string' || !location.startsWith(`${config.origin}${AUTH_PATHS.callback}?`)) {
      throw new ServerError('the mock AS sign-in answered without a redirect to the callback');
    }
    const back = await own(location, transaction);
    const set = back.headers
      .getSetCookie()
      .filter((h) => h.startsWith(`${names.session}=`) || h.startsWith(`${names.session}.sig=`));
    // D6: the AS refused or failed the code's redemption (a fault knob, most likely); this session is kept.
    if (set.length === 0) {
      throw new TemporarilyUnavailable(
        `the sign-in as ${persona} did not complete: the callback answered ${back.status} (the authorization server refused or failed the code redemption); try again`,
      );
    }
    return set;
  }

  const guards = (name: string, method: 'GET' | 'POST'): Middleware[] => [
    errorHandler(`${name}.error`, bff.options.logger),
    noStore,
    allowMethods([method]),
    // D4: the same CSRF defence as the BFF endpoints.
    requireSameOrigin({ header: CSRF_HEADER, origin: config.origin }),
  ];
  const route = (name: string, method: 'GET' | 'POST', path: string, ...stack: Middleware[]): AdminRoute => ({
    name,
    method,
    path: `${ADMIN_BASE}${path}`,
    stack: [...guards(name, method), ...(method === 'POST' ? [parseBody] : []), ...stack],
  });
  const session = requireSession(bff.options);

  return [
    route('mock.state', 'GET', '/state', async function showState(ctx: Context) {
      const current = await bff.options.getSession(ctx);
      const exp = current?.expiresAt;
      sendJson(ctx, {
        mock: true,
        session: current
          ? {
              sub: current.claims.sub,
              ...(exp
                ? { exp: Math.floor(exp / 1000), remaining_seconds: Math.max(0, Math.floor((exp - Date.now()) / 1000)) }
                : {}),
            }
          : null,
        // The panel still shows the session when the AS takes no faults or cannot be reached.
        as: await atAs('/faults').catch((err: { error_description?: string }) => ({
          unavailable: err.error_description,
        })),
      });
    }),

    route('mock.session.expire-tokens', 'POST', '/session/expire-tokens', session, async function expireTokens(ctx) {
      const expired = await expireCachedTokens(sessionOf(ctx).id);
      log(`mock.session.expire-tokens ${expired} token(s)`);
      sendJson(ctx, { expired });
    }),

    route('mock.session.lifetime', 'POST', '/session/lifetime', session, async function setLifetime(ctx) {
      const { seconds } = bodyOf(ctx);
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || Math.abs(seconds) > 366 * 86_400) {
        throw new InvalidRequest('seconds must be a number of seconds, at most a year');
      }
      const ms = Math.max(0, Math.round(seconds * 1000));
      const endsAt = Date.now() + ms;
      const data = ctx.session as NonNullable<Context['session']> & { maxAge?: number };
      // D5: the session ends then, and its cookie and stored record with it.
      data.expires_at = endsAt;
      data.maxAge = Math.max(ms, 1000);
      const { id } = sessionOf(ctx);
      // The grant record ends with its session; at 0 it expires now, and the AS is told as at any expiry.
      await tokens.setGrantLifetime(id, ms);
      log(`mock.session.lifetime ${ms / 1000} s`);
      sendJson(ctx, { exp: Math.floor(endsAt / 1000) });
    }),

    route('mock.session.revoke-grant', 'POST', '/session/revoke-grant', session, async function revokeGrant(ctx) {
      const { id } = sessionOf(ctx);
      // RFC 7009 §2.1: revoked at the AS, kept here: the next refresh meets the AS's invalid_grant.
      const outcome = await tokens.revokeAtAs(id);
      if (!outcome) throw new BackendNotReady('this session holds no refresh token to revoke');
      if (!outcome.revoked)
        throw new TemporarilyUnavailable(outcome.description, { detail: outcome.detail ?? outcome.reason });
      await expireCachedTokens(id);
      log('mock.session.revoke-grant');
      sendJson(ctx, { revoked: true });
    }),

    route('mock.session.persona', 'POST', '/session/persona', session, async function switchPersona(ctx) {
      const { persona } = bodyOf(ctx);
      if (typeof persona !== 'string' || !/^[\w.@-]{1,64}$/.test(persona)) {
        throw new InvalidRequest('persona must be a persona name such as "alice"');
      }
      const cookies = await signInAs(persona);
      // The old session ends as at sign-out: its grant revoked, its record gone.
      const old = ctx.cookies.get(names.session, { signed: true });
      await grants.end(sessionOf(ctx).id, 'persona switched');
      if (old) await store.delete(sessionStoreKey(old));
      for (const header of cookies) ctx.append('Set-Cookie', header);
      log(`mock.session.persona ${persona}`);
      sendJson(ctx, { persona });
    }),

    route('mock.as.fail', 'POST', '/as/fail', async function failTokenRequests(ctx) {
      sendJson(ctx, await atAs('/faults/fail', bodyOf(ctx)));
    }),
    route('mock.as.down', 'POST', '/as/down', async function takeAsDown(ctx) {
      sendJson(ctx, await atAs('/faults/down', {}));
    }),
    route('mock.as.up', 'POST', '/as/up', async function bringAsUp(ctx) {
      sendJson(ctx, await atAs('/faults/up', {}));
    }),

    // An EventSource sends no custom header: no CSRF header here (flow-stream.ts says why).
    {
      name: 'mock.flow',
      method: 'GET',
      path: `${ADMIN_BASE}/flow`,
      stack: [
        errorHandler('mock.flow.error', bff.options.logger),
        allowMethods(['GET']),
        refuseOtherOrigins(config.origin),
        session,
        flowStream(flow),
      ],
    },
  ];
}

/** For tests and docs: every path of the admin API. */
export const ADMIN_PATHS = [
  '/state',
  '/session/expire-tokens',
  '/session/lifetime',
  '/session/revoke-grant',
  '/session/persona',
  '/as/fail',
  '/as/down',
  '/as/up',
].map((p) => `${ADMIN_BASE}${p}`);
