/**
 * Back-channel logout: the AS tells the backend, server to server, that a user's AS session ended.
 * The backend checks the logout token, then ends the sessions it names (by `sid`, else by `sub`) as
 * sign-out would: their grants are forgotten and revoked at the AS, so each of those sessions is
 * gone at its next call (`invalid_session`). No browser is involved: no session cookie is read and
 * no CSRF defence applies, the logout token's signature is the proof.
 *
 * Walkthrough: docs/walkthrough/04-logout.md ("When the AS ends the session").
 * @see [OpenID Connect Back-Channel Logout 1.0](https://openid.net/specs/openid-connect-backchannel-1_0.html)
 */
import {
  allowMethods,
  errorHandler,
  InvalidRequest,
  noStore,
  type OpenIdClient,
  TemporarilyUnavailable,
  TmiBffError,
} from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Context, Middleware, Next } from 'koa';
import type { BackendConfig } from '../config.js';
import { type FlowEvents, short } from '../flow-events.js';
import type { GrantLifecycle } from '../session/grant-lifecycle.js';
import { STORE_KEYS } from '../store-keys.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** The route's name; `<name>.success` (with the number of sessions ended) and `<name>.error` are emitted on the app. */
export const BACKCHANNEL_LOGOUT_ROUTE = 'auth.backchannel-logout';

/** A logout token is about 1 KB; a body over this is refused with 413. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** How old a logout token may be (its `iat`); a seen `jti` is remembered this long. */
const MAX_AGE_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 5;
/** OIDC Core §3.1.3.7: the client's id_token_signed_response_alg; the bff client registers none, so RS256. */
const ALGORITHMS = ['RS256'];

export interface BackchannelLogoutDeps {
  config: Pick<BackendConfig, 'issuer' | 'client' | 'log'>;
  client: OpenIdClient;
  store: KeyValueStore;
  grants: GrantLifecycle;
  /** Mock mode only: the flow inspector's events (flow-events.ts). */
  flow?: FlowEvents | undefined;
}

interface LogoutState {
  logoutToken: string;
  claims: JWTPayload & { sid?: string; sub?: string };
}
const logoutState = (ctx: Context) => ctx.state as LogoutState;

const invalid = (description: string) => new InvalidRequest(`the logout token ${description}`);

export function backchannelLogout({ config, client, store, grants, flow }: BackchannelLogoutDeps): Middleware[] {
  const log = config.log ?? console.log;
  let jwks: { uri: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;

  /** The AS's signing keys, from the jwks_uri of its metadata (fetched again for an unknown `kid`). */
  async function signingKeys() {
    const uri = (await client.metadata().catch(() => undefined))?.jwks_uri;
    if (!uri) throw new TemporarilyUnavailable('the authorization server metadata (and its jwks_uri) is not available');
    if (jwks?.uri !== uri) jwks = { uri, keys: createRemoteJWKSet(new URL(uri)) };
    return jwks.keys;
  }

  return [
    errorHandler(`${BACKCHANNEL_LOGOUT_ROUTE}.error`, {
      debug: (event, data) => log(`${event} ${JSON.stringify(data ?? {})}`),
      error: (event, data) => log(`${event} ${JSON.stringify(data ?? {})}`),
    }),
    // BCL §2.8: the response SHOULD carry Cache-Control: no-store, errors included.
    noStore,
    allowMethods(['POST']),

    // BCL §2.5: the logout token comes as the `logout_token` field of a form-encoded POST body.
    async function readLogoutToken(ctx: Context, next: Next) {
      if (ctx.is('application/x-www-form-urlencoded') === false) {
        throw new TmiBffError('invalid_request', 'send the logout token as application/x-www-form-urlencoded', {
          status: 415,
        });
      }
      const tooLarge = () =>
        new TmiBffError('invalid_request', `the request body is over ${BODY_LIMIT_BYTES} bytes`, { status: 413 });
      if (Number(ctx.get('content-length') || 0) > BODY_LIMIT_BYTES) throw tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > BODY_LIMIT_BYTES) throw tooLarge();
        chunks.push(chunk);
      }
      const tokens = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).getAll('logout_token');
      if (tokens.length !== 1 || !tokens[0]) throw new InvalidRequest('send exactly one logout_token');
      logoutState(ctx).logoutToken = tokens[0];
      await next();
    },

    async function validateLogoutToken(ctx: Context, next: Next) {
      const keys = await signingKeys();
      const state = logoutState(ctx);
      try {
        // BCL §2.6 steps 2-4: the signature (as for an ID token), `iss`, `aud`, `iat`, and `exp` when present.
        const { payload, protectedHeader } = await jwtVerify(state.logoutToken, keys, {
          algorithms: ALGORITHMS,
          issuer: config.issuer,
          audience: config.client.id,
          requiredClaims: ['iat', 'jti'],
          maxTokenAge: MAX_AGE_SECONDS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        });
        // BCL §2.4: explicit typing, `logout+jwt`, where the AS sets it.
        const typ = protectedHeader.typ?.toLowerCase().replace(/^application\//, '');
        if (typ !== undefined && typ !== 'logout+jwt')
          throw invalid(`has typ "${protectedHeader.typ}", not logout+jwt`);
        state.claims = payload;
      } catch (err) {
        if (err instanceof TmiBffError) throw err;
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          throw new TemporarilyUnavailable("the authorization server's signing keys could not be fetched", {
            detail: (err as Error).message,
          });
        }
        throw invalid(`is not valid: ${err.message}`);
      }
      const { claims } = state;
      // BCL §2.6 step 5: either a `sid` or a `sub`, or both.
      if (typeof claims.sid !== 'string' && typeof claims.sub !== 'string') throw invalid('has neither sid nor sub');
      // BCL §2.6 step 6: an `events` claim with the back-channel logout member, a JSON object.
      const event = (claims.events as Record<string, unknown> | undefined)?.[BACKCHANNEL_LOGOUT_EVENT];
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw invalid(`has no events member ${BACKCHANNEL_LOGOUT_EVENT}`);
      }
      // BCL §2.6 step 7: a `nonce` is forbidden (it would make an ID token pass for a logout token).
      if (claims.nonce !== undefined) throw invalid('carries a nonce');
      await next();
    },

    // BCL §2.6 step 8 (MAY): a `jti` seen before is a replay.
    async function refuseReplay(ctx: Context, next: Next) {
      const { jti, iat = 0 } = logoutState(ctx).claims;
      const key = STORE_KEYS.logoutJti(config.issuer, String(jti)); // required by jwtVerify above
      const replayed = await store.withLock(key, async () => {
        if (await store.get(key)) return true;
        const ttlMs = (iat + MAX_AGE_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000 - Date.now();
        await store.set(key, true, Math.max(1000, ttlMs));
        return false;
      });
      if (replayed) throw invalid('was already received (its jti is spent)');
      await next();
    },

    // Mock mode: each session the AS ended learns it in its inspector, after its grant's revocation.
    async function showBackchannelLogout(ctx: Context, next: Next) {
      const { sid, sub } = logoutState(ctx).claims;
      const sessions = flow ? await grants.sessionsOf(config.issuer, { sid, sub }) : [];
      await next();
      for (const id of sessions) {
        flow?.publish(id, 'backchannel-logout', {
          logout_token: sid ? { sid: short(sid) } : { sub },
          session: 'ended by the AS: its grant forgotten, its refresh token revoked (RFC 7009)',
        });
      }
    },

    // #region walkthrough:backchannel-logout
    async function endNamedSessions(ctx: Context) {
      const { sid, sub } = logoutState(ctx).claims;
      // BCL §2.7: the sessions of that AS session, else every session of that user, at this issuer.
      const sessions = await grants.sessionsOf(config.issuer, { sid, sub });
      for (const id of sessions) await grants.end(id, 'back-channel logout');
      log(`${BACKCHANNEL_LOGOUT_ROUTE} ended ${sessions.length} session(s) (${sid ? 'sid' : 'sub'})`);
      // BCL §2.8: 200 once the logout is done, also when no session matched.
      ctx.status = 200;
      ctx.body = '';
      ctx.app.emit(`${BACKCHANNEL_LOGOUT_ROUTE}.success`, ctx, { sessions: sessions.length });
    },
    // #endregion
  ];
}
