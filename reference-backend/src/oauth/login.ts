/**
 * Sign-in: the authorization code flow with PKCE, `state` and `nonce`, as a confidential client
 * (TMI-BFF-01 §1.2, TMI-03/04). The login transaction lives server-side, bound to the browser by a
 * short-lived SameSite=Lax cookie (D5), so the redirect back from the AS works across sites and a
 * callback URL replayed in another browser finds nothing.
 *
 * The same routes serve the remediation of backend_not_ready (D13): `/auth/consent` asks the user
 * for a resource or scope the session's grant does not cover, and keeps the session.
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import {
  AuthorizationServerError,
  type CodeGrantResult,
  describeAsFailure,
  type GrantInput,
  OpenIdClient,
  type TokenService,
} from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context, Middleware, Next } from 'koa';
import type { BackendConfig } from '../config.js';
import { PageError } from '../pages.js';
import { AUTH_PATHS } from '../paths.js';
import { asSessionId, type GrantLifecycle } from '../session/grant-lifecycle.js';
import { cookieNames, currentSession, randomId, type SessionData } from '../session/session.js';
import { STORE_KEYS } from '../store-keys.js';
import { refererPath, safeReturnTo } from './return-to.js';

const TRANSACTION_TTL_MS = 10 * 60 * 1000;
const ID_TOKEN_PROTOCOL_CLAIMS = new Set([
  'aud',
  'azp',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'iat',
  'exp',
  'nbf',
  'jti',
  'sid',
]);

interface LoginTransaction {
  state: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  scope: string;
  resources: string[];
  /** Set for a consent remediation: the session whose grant grows, and who its user is. */
  sid?: string | undefined;
  iss?: string | undefined;
  sub?: string | undefined;
}

export interface LoginDeps {
  config: BackendConfig;
  client: OpenIdClient;
  store: KeyValueStore;
  tokens: TokenService;
  grants: GrantLifecycle;
}

/** What the callback works with, step by step. */
interface CallbackState {
  tx: LoginTransaction;
  result: CodeGrantResult;
  claims: Record<string, unknown>;
  grant: GrantInput;
}

/**
 * Which AS session a sign-in happened in: the ID token's `sid` where the AS sends one (OpenID
 * Connect Back-Channel Logout §2.4); otherwise the user and the time of authentication, which sign-ins
 * riding one AS session share. See session/grant-lifecycle.ts for why it matters.
 */
function asSessionOf(idClaims: Record<string, unknown>): string | undefined {
  if (typeof idClaims.sid === 'string') return asSessionId(String(idClaims.iss), idClaims.sid);
  if (typeof idClaims.auth_time === 'number') return `auth_time ${idClaims.iss} ${idClaims.sub} ${idClaims.auth_time}`;
  return undefined;
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
const split = (s: string | undefined) => (s ?? '').split(' ').filter(Boolean);
const callbackState = (ctx: Context) => ctx.state as CallbackState;

export function loginRoutes({ config, client, store, tokens, grants }: LoginDeps) {
  const names = cookieNames(config.origin);
  const cookie = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.origin.startsWith('https:'),
    path: '/',
    signed: true,
  };
  const redirectUri = `${config.origin}${AUTH_PATHS.callback}`;

  /** The AS's metadata; a failure says what is wrong with it (D6), not just "unreachable". */
  async function metadata() {
    try {
      return await client.metadata();
    } catch (err) {
      const failure = describeAsFailure(err, config.issuer);
      const title =
        failure.reason === 'unreachable' || failure.reason === 'timeout'
          ? 'The sign-in server is not reachable'
          : 'The sign-in server answered, but not as expected';
      const hint =
        failure.reason === 'unreachable' || failure.reason === 'timeout'
          ? 'Is it running? Try again in a moment.'
          : 'Check the issuer setting (BFF_ISSUER).';
      throw new PageError(
        503,
        title,
        `${failure.description}. ${hint}`,
        `discovery ${failure.reason}: ${failure.detail}`,
      );
    }
  }

  async function startAuthorization(
    ctx: Context,
    tx: Omit<LoginTransaction, 'state' | 'nonce' | 'code_verifier'>,
    prompt?: string,
  ) {
    const as = await metadata();
    const request = await OpenIdClient.newAuthorizationRequest();
    const transaction: LoginTransaction = {
      ...tx,
      state: request.state,
      nonce: request.nonce,
      code_verifier: request.codeVerifier,
    };
    const id = randomId();
    await store.set(STORE_KEYS.login(id), transaction, TRANSACTION_TTL_MS);
    ctx.cookies.set(names.login, id, { ...cookie, maxAge: TRANSACTION_TTL_MS });

    const params = new URLSearchParams({
      redirect_uri: redirectUri,
      scope: transaction.scope,
      // RFC 9700 §2.1.1: PKCE with S256, plus state and nonce.
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
      ...(prompt ? { prompt } : {}),
    });
    for (const resource of transaction.resources) params.append('resource', resource);
    // OIDC Core §5.5: ask for the ID token's `sid` where the AS takes the claims parameter; it tells
    // which AS session (and, at many ASes, which grant) a sign-in rode on (session/grant-lifecycle.ts).
    // OIDC Core §5.5.1.1: `auth_time` too, which bff-sessioninfo shows.
    if (as.claims_parameter_supported) {
      params.set('claims', JSON.stringify({ id_token: { sid: null, auth_time: { essential: true } } }));
    }
    ctx.status = 303;
    ctx.redirect((await client.authorizationUrl(params)).href);
  }

  /**
   * The end of a callback that changes nothing: the new grant is not kept, and so it is revoked
   * (unless it is the grant the browser's session already holds: then it stays, for that session).
   */
  async function refuse(ctx: Context, grant: GrantInput, why: string, title: string, detail: string): Promise<never> {
    await grants.discard(grant, why, currentSession(ctx)?.id);
    throw new PageError(400, title, detail, `auth.callback refused: ${why}`);
  }

  return {
    /** GET /auth/login?returnTo=/path; without returnTo, back to the page the user came from. */
    login: [
      async function startSignIn(ctx: Context) {
        const asked = ctx.query.returnTo ?? refererPath(ctx.get('referer'), config.origin);
        await startAuthorization(ctx, {
          return_to: safeReturnTo(asked, config.origin),
          scope: config.login.scope,
          resources: config.login.resources,
        });
      },
    ] as Middleware[],

    /** GET /auth/consent?resource=…&scope=…&returnTo=… — D13 remediation of backend_not_ready. */
    consent: [
      async function startConsent(ctx: Context) {
        const session = currentSession(ctx);
        const returnTo = safeReturnTo(ctx.query.returnTo, config.origin);
        const grant = session ? await tokens.getGrant(session.id) : undefined;
        if (!session || !grant) {
          ctx.status = 303;
          ctx.redirect(`${AUTH_PATHS.login}?returnTo=${encodeURIComponent(returnTo)}`);
          return;
        }
        const asked = (name: string) =>
          [ctx.query[name] ?? []].flat().filter((v): v is string => typeof v === 'string');
        await startAuthorization(
          ctx,
          {
            return_to: returnTo,
            scope: union(split(grant.scope), asked('scope').flatMap(split)).join(' '),
            resources: union(
              grant.resources,
              asked('resource').filter((r) => URL.canParse(r)),
            ),
            sid: session.id,
            iss: typeof session.claims.iss === 'string' ? session.claims.iss : undefined,
            sub: typeof session.claims.sub === 'string' ? session.claims.sub : undefined,
          },
          'consent',
        );
      },
    ] as Middleware[],

    /** GET /auth/callback: the AS sends the browser back here. */
    callback: [
      async function takeLoginTransaction(ctx: Context, next: Next) {
        const id = ctx.cookies.get(names.login, { signed: true });
        ctx.cookies.set(names.login, null, { ...cookie });
        // Used once, even by two callbacks at the same moment: taken under the lock, so a replayed
        // callback finds nothing and never spends the code twice (a reused code revokes the grant).
        const tx = id
          ? await store.withLock(STORE_KEYS.login(id), async () => {
              const found = await store.get<LoginTransaction>(STORE_KEYS.login(id));
              if (found) await store.delete(STORE_KEYS.login(id));
              return found;
            })
          : undefined;
        if (!tx) {
          throw new PageError(
            400,
            'This sign-in link has expired',
            'Start again: it is valid for ten minutes, in the browser that started it.',
          );
        }
        callbackState(ctx).tx = tx;
        await next();
      },

      async function redeemAuthorizationCode(ctx: Context, next: Next) {
        const state = callbackState(ctx);
        const { tx } = state;
        await metadata();
        try {
          state.result = await client.codeGrant(new URL(ctx.originalUrl, config.origin), {
            codeVerifier: tx.code_verifier,
            state: tx.state,
            nonce: tx.nonce,
          });
        } catch (err) {
          const relayed = err instanceof AuthorizationServerError;
          const failure = describeAsFailure(err, config.issuer);
          const detail = relayed ? `${err.error}: ${err.error_description ?? ''}` : failure.description;
          throw new PageError(
            400,
            'Sign-in did not complete',
            detail,
            `auth.callback error: ${relayed ? err.error : `${failure.reason}: ${failure.detail}`}`,
          );
        }
        await next();
      },

      async function collectClaims(ctx: Context, next: Next) {
        const state = callbackState(ctx);
        const { result, tx } = state;
        const idClaims = result.claims;
        // D12: claims about the user and the sign-in; the ID token's protocol claims (aud, nonce,
        // at_hash, iat, exp, …) say nothing about the user and stay out of the session.
        const claims: Record<string, unknown> = Object.fromEntries(
          Object.entries(idClaims).filter(([name]) => !ID_TOKEN_PROTOCOL_CLAIMS.has(name)),
        );
        // OIDC Core §5.4: profile and email claims may live at the userinfo endpoint, not in the ID token.
        if (typeof claims.sub === 'string') {
          const userinfo = await client.userinfo(result.access_token, claims.sub).catch(() => undefined);
          Object.assign(claims, userinfo, { iss: claims.iss, sub: claims.sub });
        }
        state.claims = claims;
        state.grant = {
          refreshToken: result.refresh_token,
          resources: tx.resources,
          // What was asked: the code grant's own `scope` only describes its userinfo token.
          scope: tx.scope,
          asSession: asSessionOf(idClaims),
        };
        await next();
      },

      async function growGrant(ctx: Context, next: Next) {
        const { tx, claims, grant } = callbackState(ctx);
        if (!tx.sid) return next();
        // D13: the grant of the session that asked grows, and nothing else: not another session's.
        const session = currentSession(ctx);
        if (session?.id !== tx.sid) {
          await refuse(
            ctx,
            grant,
            'the session changed during consent',
            'Your session changed',
            'You signed out or in again while the sign-in server was asking for consent, so nothing was changed. Try again from the application.',
          );
        }
        // D13: one session, one identity. Consent as someone else never mixes two users' tokens.
        if (claims.iss !== tx.iss || claims.sub !== tx.sub) {
          await refuse(
            ctx,
            grant,
            `consent signed in as ${String(claims.sub)}, the session belongs to ${String(tx.sub)}`,
            'You signed in as someone else',
            `This session belongs to ${String(tx.sub)}, but the sign-in server answered for ${String(claims.sub)}. Nothing was changed. To use the other account, sign out first.`,
          );
        }
        // An AS may not issue a new refresh token with consent: the token layer keeps the old one then.
        await grants.widen(tx.sid, grant, Math.max(1, (ctx.session?.expires_at ?? 0) - Date.now()), claims);
        ctx.status = 303;
        ctx.redirect(tx.return_to);
      },

      // #region walkthrough:new-session
      async function startSession(ctx: Context) {
        const { tx, claims, result, grant } = callbackState(ctx);
        // A new sign-in: a new session under a new id (no fixation), and a new grant record.
        const data: SessionData = {
          sid: randomId(),
          claims: { ...claims },
          id_token: result.id_token,
          expires_at: Date.now() + config.sessionMaxAgeMs,
        };
        await grants.start(data.sid, grant, config.sessionMaxAgeMs, claims);
        // The session this browser had is over: its grant is forgotten, and revoked at the AS.
        const previous = currentSession(ctx);
        if (previous) await grants.end(previous.id, 'replaced by a new sign-in', data.sid);
        if (ctx.session) {
          Object.assign(ctx.session, data);
          await ctx.session.regenerate();
        }
        ctx.status = 303;
        ctx.redirect(tx.return_to);
      },
      // #endregion
    ] as Middleware[],
  };
}
