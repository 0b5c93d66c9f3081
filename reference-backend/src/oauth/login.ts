/**
 * Sign-in: the authorization code flow with PKCE, `state` and `nonce`, as a confidential client
 * (TMI-BFF-01 §1.2, TMI-03/04). GET /auth/login starts it; the AS sends the browser back to
 * /auth/callback (callback.ts). The same authorization request serves consent (consent.ts, D13).
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import type { OpenIdClient, TokenService } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context, Middleware } from 'koa';
import type { BackendConfig } from '../config.js';
import { FlowEvents, short } from '../flow-events.js';
import { AUTH_PATHS } from '../paths.js';
import type { GrantLifecycle } from '../session/grant-lifecycle.js';
import { discoveryFailed } from './errors.js';
import type { LoginIntent, LoginTransactions } from './login-transaction.js';
import { refererPath, safeReturnTo } from './return-to.js';

/** What the sign-in routes (login, consent, callback) work with. */
export interface SignInDeps {
  config: BackendConfig;
  client: OpenIdClient;
  store: KeyValueStore;
  tokens: TokenService;
  grants: GrantLifecycle;
  transactions: LoginTransactions;
  /** Mock mode only: the flow inspector's events (flow-events.ts). */
  flow?: FlowEvents | undefined;
}

/** The AS's metadata; a failed discovery is a page that says what is wrong (D6). */
export async function discover({ client, config }: Pick<SignInDeps, 'client' | 'config'>) {
  try {
    return await client.metadata();
  } catch (err) {
    throw discoveryFailed(err, config.issuer);
  }
}

/**
 * Redirects the browser to the AS's authorization endpoint for `intent` (RFC 6749 §4.1.1), after
 * keeping its login transaction. `prompt` is the backend's own (consent asks for `consent`).
 */
export function authorizationRedirect(deps: Pick<SignInDeps, 'client' | 'config' | 'transactions' | 'flow'>) {
  const { client, config, transactions, flow } = deps;
  const redirectUri = `${config.origin}${AUTH_PATHS.callback}`;

  return async function redirectToAuthorization(ctx: Context, intent: LoginIntent, prompt?: string): Promise<void> {
    const as = await discover(deps);
    const { transaction, codeChallenge } = await transactions.create(ctx, intent);
    const params = new URLSearchParams({
      redirect_uri: redirectUri,
      scope: transaction.scope,
      // RFC 9700 §2.1.1: PKCE with S256, plus state and nonce.
      code_challenge: codeChallenge,
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
    // BFF_AUTHORIZATION_PARAMS (audience, prompt, acr_values, …) come after the backend's own, which
    // they never replace (config.ts refuses the protocol's; a consent's own `prompt` stays).
    for (const [name, value] of Object.entries(config.login.params ?? {})) {
      if (!params.has(name)) params.set(name, value);
    }
    const url = await client.authorizationUrl(params);
    // The inspector shows the request the browser is sent to, secrets shortened; the callback moves
    // it to the session it starts.
    flow?.publish(FlowEvents.signInKey(transaction.state), 'authorize', {
      authorization_endpoint: `${url.origin}${url.pathname}`,
      ...Object.fromEntries(url.searchParams),
      resource: url.searchParams.getAll('resource'),
      code_challenge: short(codeChallenge),
      state: short(transaction.state),
      nonce: short(transaction.nonce),
      ...(transaction.sid ? { for: 'consent (D13): the grant of this session grows' } : {}),
    });
    ctx.status = 303;
    ctx.redirect(url.href);
  };
}

/** GET /auth/login?returnTo=/path; without returnTo, back to the page the user came from. */
export function loginRoute(deps: SignInDeps): Middleware[] {
  const { config } = deps;
  const redirectToAuthorization = authorizationRedirect(deps);
  return [
    async function startSignIn(ctx: Context) {
      const asked = ctx.query.returnTo ?? refererPath(ctx.get('referer'), config.origin);
      await redirectToAuthorization(ctx, {
        return_to: safeReturnTo(asked, config.origin),
        scope: config.login.scope,
        resources: config.login.resources,
      });
    },
  ];
}
