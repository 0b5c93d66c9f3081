/**
 * GET /auth/callback: the AS sends the browser back here with the authorization response. Step by
 * step: take the login transaction (once), redeem the code, load the user's claims, then either
 * widen the grant of the session that asked for consent (D13) or start a new session, and return to
 * the app.
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import { AuthorizationServerError, type CodeGrantResult, describeAsFailure, type GrantInput } from '@tmi-bff/koa';
import type { Context, Middleware, Next } from 'koa';
import { errorAnswer, FlowEvents, short, tokenAnswer } from '../flow-events.js';
import { asSessionId } from '../session/grant-lifecycle.js';
import { bffSession, currentSession, randomId, type SessionData } from '../session/session.js';
import { SignInError } from './errors.js';
import { discover, type SignInDeps } from './login.js';
import type { LoginTransaction } from './login-transaction.js';

/** The ID token's protocol claims: about the token, not the user (D12). */
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

/** What the callback works with, step by step. */
interface CallbackState {
  tx: LoginTransaction;
  result: CodeGrantResult;
  claims: Record<string, unknown>;
  grant: GrantInput;
}
const callbackState = (ctx: Context) => ctx.state as CallbackState;

/**
 * Which AS session a sign-in happened in: the ID token's `sid` where the AS sends one (OpenID
 * Connect Back-Channel Logout §2.4); otherwise the user and the time of authentication, which
 * sign-ins riding one AS session share. See session/grant-lifecycle.ts for why it matters.
 */
function asSessionOf(idClaims: Record<string, unknown>): string | undefined {
  if (typeof idClaims.sid === 'string') return asSessionId(String(idClaims.iss), idClaims.sid);
  if (typeof idClaims.auth_time === 'number') return `auth_time ${idClaims.iss} ${idClaims.sub} ${idClaims.auth_time}`;
  return undefined;
}

/** The log line of a sign-in without a refresh token: what bff-token will lack, and the fix. */
function noRefreshTokenLine(scope: string): string {
  const fix = scope.split(' ').includes('offline_access')
    ? 'BFF_SCOPE asks for offline_access, so the AS declined: some ASes (e.g. oidc-provider) also need prompt=consent in BFF_AUTHORIZATION_PARAMS, and the client must be allowed the refresh_token grant'
    : 'add offline_access to BFF_SCOPE; some ASes (e.g. oidc-provider) also need prompt=consent in BFF_AUTHORIZATION_PARAMS';
  return `auth.no_refresh_token: the authorization server issued no refresh token at sign-in (scope "${scope}"), so bff-token cannot get tokens for this session (backend_not_ready, remediation "configuration"): ${fix}`;
}

export function callbackRoute(deps: SignInDeps): Middleware[] {
  const { config, client, grants, transactions, flow } = deps;
  const log = config.log ?? console.log;
  /** Mock mode: the sign-in's events, under its `state` until it has a session (`showFlowTo`). */
  const signIn = (ctx: Context) => FlowEvents.signInKey(callbackState(ctx).tx.state);

  /**
   * The end of a callback that changes nothing: the new grant is not kept, and so it is revoked
   * (unless it is the grant the browser's session already holds: then it stays, for that session).
   */
  async function refuse(ctx: Context, why: string, title: string, detail: string): Promise<never> {
    await grants.discard(callbackState(ctx).grant, why, currentSession(ctx)?.id);
    throw new SignInError(400, title, detail, `auth.callback refused: ${why}`);
  }

  return [
    async function takeLoginTransaction(ctx: Context, next: Next) {
      const tx = await transactions.take(ctx);
      if (!tx) {
        throw new SignInError(
          400,
          'This sign-in link has expired',
          'Start again: it is valid for ten minutes, in the browser that started it.',
        );
      }
      callbackState(ctx).tx = tx;
      flow?.publish(signIn(ctx), 'callback', {
        code: short(ctx.query.code),
        state: short(ctx.query.state),
        // RFC 9700 §4.7: the state must be the one this browser's transaction sent.
        state_matches: ctx.query.state === tx.state,
        ...(typeof ctx.query.error === 'string' ? { error: ctx.query.error } : {}),
      });
      await next();
    },

    // Mock mode: the sign-in's events become its browser's session's, for the inspector: the new
    // session's, the session whose grant a consent widened, or, when the callback fails, the session
    // the browser still has (a refused consent shows what the AS answered).
    async function showFlowToSession(ctx: Context, next: Next) {
      try {
        await next();
      } finally {
        const session = flow && bffSession(ctx.session);
        if (session) flow.move(signIn(ctx), session.id);
      }
    },

    // RFC 6749 §4.1.3, RFC 9700 §4.7: the code, with the transaction's state, PKCE verifier and nonce.
    async function redeemAuthorizationCode(ctx: Context, next: Next) {
      const state = callbackState(ctx);
      const { tx } = state;
      await discover(deps);
      const started = performance.now();
      const told = (answer: Record<string, unknown>) =>
        flow?.publish(
          signIn(ctx),
          'code',
          { grant_type: 'authorization_code', code_verifier: short(tx.code_verifier), ...answer },
          Math.round(performance.now() - started),
        );
      try {
        state.result = await client.codeGrant(new URL(ctx.originalUrl, config.origin), {
          codeVerifier: tx.code_verifier,
          state: tx.state,
          nonce: tx.nonce,
        });
        told({ outcome: 'ok', ...tokenAnswer(state.result) });
      } catch (err) {
        told({ outcome: 'error', ...errorAnswer(err) });
        const relayed = err instanceof AuthorizationServerError;
        const failure = describeAsFailure(err, config.issuer);
        throw new SignInError(
          400,
          'Sign-in did not complete',
          relayed ? `${err.error}: ${err.error_description ?? ''}` : failure.description,
          `auth.callback error: ${relayed ? err.error : `${failure.reason}: ${failure.detail}`}`,
        );
      }
      await next();
    },

    async function collectClaims(ctx: Context, next: Next) {
      const state = callbackState(ctx);
      const { result, tx } = state;
      // D12: claims about the user and the sign-in; the ID token's protocol claims (aud, nonce,
      // at_hash, iat, exp, …) say nothing about the user and stay out of the session.
      const claims: Record<string, unknown> = Object.fromEntries(
        Object.entries(result.claims).filter(([name]) => !ID_TOKEN_PROTOCOL_CLAIMS.has(name)),
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
        asSession: asSessionOf(result.claims),
      };
      await next();
    },

    async function growGrant(ctx: Context, next: Next) {
      const { tx, claims, grant } = callbackState(ctx);
      if (!tx.sid) return next();
      // D13: the grant of the session that asked grows, and nothing else: not another session's.
      if (currentSession(ctx)?.id !== tx.sid) {
        await refuse(
          ctx,
          'the session changed during consent',
          'Your session changed',
          'You signed out or in again while the sign-in server was asking for consent, so nothing was changed. Try again from the application.',
        );
      }
      // D13: one session, one identity. Consent as someone else never mixes two users' tokens.
      // The same `sub` at another issuer is another user: a session kept in the store from before the
      // backend's BFF_ISSUER changed. Then each name says its issuer.
      if (claims.iss !== tx.iss || claims.sub !== tx.sub) {
        const who = (iss: unknown, sub: unknown) =>
          claims.iss === tx.iss ? String(sub) : `${String(sub)} at ${String(iss)}`;
        const answered = who(claims.iss, claims.sub);
        const owner = who(tx.iss, tx.sub);
        await refuse(
          ctx,
          `consent signed in as ${answered}, the session belongs to ${owner}`,
          'You signed in as someone else',
          `This session belongs to ${owner}, but the sign-in server answered for ${answered}. Nothing was changed. To use the other account, sign out first.`,
        );
      }
      // An AS may not issue a new refresh token with consent: the token layer keeps the old one then.
      await grants.widen(tx.sid, grant, Math.max(1, (ctx.session?.expires_at ?? 0) - Date.now()), claims);
      ctx.status = 303;
      ctx.redirect(tx.return_to);
    },

    // Sign-in still succeeds without a refresh token: the session works, bff-token cannot; say why.
    async function noteMissingRefreshToken(ctx: Context, next: Next) {
      const { tx, grant } = callbackState(ctx);
      if (!grant.refreshToken) log(noRefreshTokenLine(tx.scope));
      await next();
    },

    // #region walkthrough:new-session
    async function startSession(ctx: Context) {
      const { tx, claims, result, grant } = callbackState(ctx);
      // A new sign-in: a new session under a new id (no fixation), and a new grant record.
      const data: SessionData = {
        sid: randomId(),
        claims: { ...claims },
        expires_at: Date.now() + config.sessionMaxAgeMs,
      };
      // The ID token stays server-side, out of the session record (for sign-out's id_token_hint, when sent).
      await grants.start(data.sid, grant, config.sessionMaxAgeMs, claims, result.id_token);
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
  ];
}
