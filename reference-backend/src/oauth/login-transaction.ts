/**
 * The login transaction: what an authorization request must find again at its callback (`state`,
 * `nonce`, the PKCE verifier, where to return, what was asked). It lives server-side, bound to the
 * browser by a short-lived SameSite=Lax cookie (D5), so the redirect back from the AS works across
 * sites, and a callback URL replayed in another browser finds nothing.
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import { OpenIdClient } from '@tmi-bff/koa';
import type { KeyValueStore } from '@tmi-bff/store';
import type { Context } from 'koa';
import type { BackendConfig } from '../config.js';
import { cookieNames, randomId } from '../session/session.js';
import { STORE_KEYS } from '../store-keys.js';

/** How long a sign-in may take at the AS. */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

export interface LoginTransaction {
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

/** What a sign-in or consent asks for: the transaction without its secrets. */
export type LoginIntent = Omit<LoginTransaction, 'state' | 'nonce' | 'code_verifier'>;

export type LoginTransactions = ReturnType<typeof loginTransactions>;

export function loginTransactions(config: Pick<BackendConfig, 'origin'>, store: KeyValueStore) {
  const name = cookieNames(config.origin).login;
  const cookie = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.origin.startsWith('https:'),
    path: '/',
    signed: true,
  };

  return {
    /**
     * A new transaction for `intent`, kept for ten minutes and bound to this browser by its cookie.
     * Returns it with the PKCE challenge the authorization request sends.
     */
    async create(ctx: Context, intent: LoginIntent): Promise<{ transaction: LoginTransaction; codeChallenge: string }> {
      // RFC 9700 §2.1.1: PKCE with S256, plus state and nonce, fresh for each request.
      const { state, nonce, codeVerifier, codeChallenge } = await OpenIdClient.newAuthorizationRequest();
      const transaction: LoginTransaction = { ...intent, state, nonce, code_verifier: codeVerifier };
      const id = randomId();
      await store.set(STORE_KEYS.login(id), transaction, TRANSACTION_TTL_MS);
      ctx.cookies.set(name, id, { ...cookie, maxAge: TRANSACTION_TTL_MS });
      return { transaction, codeChallenge };
    },

    /**
     * The browser's transaction, taken once: even two callbacks at the same moment get it once,
     * under the lock, so a replayed callback finds nothing and never spends the code twice (a
     * reused code revokes the grant, RFC 6749 §4.1.2). Its cookie is cleared either way.
     */
    async take(ctx: Context): Promise<LoginTransaction | undefined> {
      const id = ctx.cookies.get(name, { signed: true });
      ctx.cookies.set(name, null, { ...cookie });
      if (!id) return undefined;
      return store.withLock(STORE_KEYS.login(id), async () => {
        const found = await store.get<LoginTransaction>(STORE_KEYS.login(id));
        if (found) await store.delete(STORE_KEYS.login(id));
        return found;
      });
    },
  };
}
