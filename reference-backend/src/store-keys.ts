/**
 * The store's key namespaces, in one place. The sealed store keeps each key's namespace (everything
 * up to its first `:`) in clear and hashes the rest, so these prefixes are all a data file shows.
 * The grant records' namespace belongs to the token layer (`grantKey` in @tmi-bff/koa).
 */
import { grantKey } from '@tmi-bff/koa';

export const STORE_KEYS = {
  /** A sign-in in flight, by its state cookie's id (oauth/login-transaction.ts). */
  login: (id: string) => `login:${id}`,
  /** A session, by its cookie value (session/session.ts). */
  session: (id: string) => `session:${id}`,
  /** The sessions of one AS session, by `sid` (Back-Channel Logout). */
  asSession: (sid: string) => `as-session:${sid}`,
  /** The sessions of one user, by issuer and `sub`. */
  user: (user: string) => `sub:${user}`,
  /** A session's ID token, for `id_token_hint` at sign-out (kept out of the session's own record). */
  idToken: (sessionId: string) => `id-token:${sessionId}`,
  /** Whose session it is, by session id. */
  sessionUser: (sessionId: string) => `session-user:${sessionId}`,
  /** A logout token's `jti`, once seen at one issuer (replay defence). */
  logoutJti: (issuer: string, jti: string) => `logout-jti:${issuer} ${jti}`,
  /** The backend's own settings kept in the store, e.g. `cookie-keys`. */
  config: (name: string) => `config:${name}`,
  /** A session's grant record (the token layer's). */
  grant: grantKey,
} as const;

/** Whether a stored key is a grant record's. */
export const isGrantKey = (key: string): boolean => key.startsWith(grantKey(''));
