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
import type { OpenIdClient, TokenService } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { BackendConfig } from '../config.js';
import { errorPage } from '../pages.js';
import { cookieNames, currentSession, randomId, type SessionData } from '../session/session.js';

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
  /** Set for a consent remediation: the session whose grant grows. */
  sid?: string | undefined;
}

export interface LoginDeps {
  config: BackendConfig;
  client: OpenIdClient;
  store: KeyValueStore;
  tokens: TokenService;
}

/** Same-origin paths only: anything else becomes "/" (no open redirect). */
export function safeReturnTo(value: unknown, origin: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  if (!URL.canParse(value, origin)) return '/';
  const url = new URL(value, origin);
  return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : '/';
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
const split = (s: string | undefined) => (s ?? '').split(' ').filter(Boolean);

export function loginRoutes({ config, client, store, tokens }: LoginDeps) {
  const names = cookieNames(config.origin);
  const cookie = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.origin.startsWith('https:'),
    path: '/',
    signed: true,
  };
  const redirectUri = `${config.origin}/auth/callback`;

  async function startAuthorization(
    ctx: Context,
    tx: Omit<LoginTransaction, 'state' | 'nonce' | 'code_verifier'>,
    prompt?: string,
  ) {
    let configuration: oidc.Configuration;
    try {
      configuration = await client.configuration();
    } catch {
      ctx.status = 503;
      ctx.type = 'html';
      ctx.body = errorPage(
        'The sign-in server is not reachable',
        `Could not reach ${config.issuer}. Is it running? Try again in a moment.`,
      );
      return;
    }
    const code_verifier = oidc.randomPKCECodeVerifier();
    const transaction: LoginTransaction = {
      ...tx,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      code_verifier,
    };
    const id = randomId();
    await store.set(`login:${id}`, transaction, TRANSACTION_TTL_MS);
    ctx.cookies.set(names.login, id, { ...cookie, maxAge: TRANSACTION_TTL_MS });

    const params = new URLSearchParams({
      redirect_uri: redirectUri,
      scope: transaction.scope,
      // RFC 9700 §2.1.1: PKCE with S256, plus state and nonce.
      code_challenge: await oidc.calculatePKCECodeChallenge(code_verifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
      ...(prompt ? { prompt } : {}),
    });
    for (const resource of transaction.resources) params.append('resource', resource);
    ctx.status = 303;
    ctx.redirect(oidc.buildAuthorizationUrl(configuration, params).href);
  }

  return {
    /** GET /auth/login?returnTo=/path */
    async login(ctx: Context) {
      await startAuthorization(ctx, {
        return_to: safeReturnTo(ctx.query.returnTo, config.origin),
        scope: config.login.scope,
        resources: config.login.resources,
      });
    },

    /** GET /auth/consent?resource=…&scope=…&returnTo=… — D13 remediation of backend_not_ready. */
    async consent(ctx: Context) {
      const session = currentSession(ctx);
      const returnTo = safeReturnTo(ctx.query.returnTo, config.origin);
      const grant = session ? await tokens.getGrant(session.id) : undefined;
      if (!session || !grant) {
        ctx.status = 303;
        ctx.redirect(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
        return;
      }
      const asked = (name: string) => [ctx.query[name] ?? []].flat().filter((v): v is string => typeof v === 'string');
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
        },
        'consent',
      );
    },

    /** GET /auth/callback: the AS sends the browser back here. */
    async callback(ctx: Context) {
      const id = ctx.cookies.get(names.login, { signed: true });
      ctx.cookies.set(names.login, null, { ...cookie });
      const tx = id ? await store.get<LoginTransaction>(`login:${id}`) : undefined;
      if (id) await store.delete(`login:${id}`);
      if (!tx) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = errorPage(
          'This sign-in link has expired',
          'Start again: it is valid for ten minutes, in the browser that started it.',
        );
        return;
      }
      let result: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      let configuration: oidc.Configuration;
      try {
        configuration = await client.configuration();
        result = await oidc.authorizationCodeGrant(configuration, new URL(ctx.originalUrl, config.origin), {
          pkceCodeVerifier: tx.code_verifier,
          expectedState: tx.state,
          expectedNonce: tx.nonce,
        });
      } catch (err) {
        const e = err as { error?: string; error_description?: string; message?: string };
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = errorPage(
          'Sign-in did not complete',
          e.error ? `${e.error}: ${e.error_description ?? ''}` : (e.message ?? 'unknown error'),
        );
        config.log?.(`auth.callback error: ${e.error ?? e.message}`);
        return;
      }
      // D12: claims about the user and the sign-in; the ID token's protocol claims (aud, nonce,
      // at_hash, iat, exp, …) say nothing about the user and stay out of the session.
      const claims: Record<string, unknown> = Object.fromEntries(
        Object.entries(result.claims() ?? {}).filter(([name]) => !ID_TOKEN_PROTOCOL_CLAIMS.has(name)),
      );
      // OIDC Core §5.4: profile and email claims may live at the userinfo endpoint, not in the ID token.
      if (typeof claims.sub === 'string') {
        const userinfo = await oidc
          .fetchUserInfo(configuration, result.access_token, claims.sub)
          .catch(() => undefined);
        Object.assign(claims, userinfo, { iss: claims.iss, sub: claims.sub });
      }
      // What was asked: the code grant's own `scope` only describes its userinfo token.
      const scope = tx.scope;

      if (tx.sid && currentSession(ctx)?.id === tx.sid) {
        // D13: the grant now covers more; the session stays.
        const previous = await tokens.getGrant(tx.sid);
        await tokens.saveGrant(
          tx.sid,
          {
            ...(result.refresh_token
              ? { refresh_token: result.refresh_token }
              : previous?.refresh_token
                ? { refresh_token: previous.refresh_token }
                : {}),
            resources: tx.resources,
            scope,
            tokens: {},
          },
          Math.max(1, (ctx.session?.expires_at ?? 0) - Date.now()),
        );
      } else {
        // #region walkthrough:new-session
        // A new sign-in: a new session under a new id (no fixation), and a new grant record.
        const expiresAt = Date.now() + config.sessionMaxAgeMs;
        const data: SessionData = {
          sid: randomId(),
          claims: { ...claims },
          id_token: result.id_token,
          expires_at: expiresAt,
        };
        await tokens.saveGrant(
          data.sid,
          {
            ...(result.refresh_token ? { refresh_token: result.refresh_token } : {}),
            resources: tx.resources,
            scope,
            tokens: {},
          },
          config.sessionMaxAgeMs,
        );
        const previous = currentSession(ctx);
        if (previous) await tokens.deleteGrant(previous.id);
        if (ctx.session) {
          Object.assign(ctx.session, data);
          await ctx.session.regenerate();
        }
        // #endregion
      }
      ctx.status = 303;
      ctx.redirect(tx.return_to);
    },
  };
}
