/**
 * N stored sessions, fast: the records of one real sign-in, cloned under new random ids and written
 * through the backend's own store (the SealedStore over LowdbStore or RedisStore that createBackend
 * opens), so they are sealed, laid out and indexed exactly as sign-ins leave them.
 *
 * A session is five records (reference-backend: store-keys.ts, session/session.ts,
 * session/grant-lifecycle.ts):
 *
 *   session:<cookie id>        the koa-session value: sid, claims, id_token, expires_at
 *   grant:<sid>                the grant record: refresh token, resources, scope, cached tokens
 *   session-user:<sid>         whose session it is, "<iss> <sub>"
 *   sub:<iss> <sub>            that user's sessions, { ids, ends_at }
 *   as-session:<as session>    which session carries the AS session
 *
 * Each clone is another user (its own `sub`) in its own AS session, as N people signed in once are.
 */
import { randomBytes } from 'node:crypto';
import { grantKey } from '@tmi-bff/koa';
import type { SessionData } from '@tmi-bff/reference-backend';
import { type KeyValueStore, StoreUnavailable } from '@tmi-bff/store';

// The backend's key namespaces (reference-backend/src/store-keys.ts); `readTemplate` fails loudly
// when one of them no longer finds its record.
const KEYS = {
  session: (id: string) => `session:${id}`,
  grant: grantKey,
  sessionUser: (sid: string) => `session-user:${sid}`,
  user: (user: string) => `sub:${user}`,
  asSession: (asSession: string) => `as-session:${asSession}`,
};

/** One signed-in session's records, read from the store. */
export interface Template {
  session: SessionData & Record<string, unknown>;
  grant: Record<string, unknown> & { as_session?: string };
  user: string;
}

/** Ids for `count` clones from one draw of randomness: 32 bytes per id, as the backend's own. */
function ids(count: number) {
  const bytes = randomBytes(count * 72);
  return (i: number) => ({
    cookieId: bytes.toString('base64url', i * 72, i * 72 + 32),
    sid: bytes.toString('base64url', i * 72 + 32, i * 72 + 64),
    user: bytes.toString('base64url', i * 72 + 64, i * 72 + 72),
  });
}

/** Reads the records of the session whose cookie id is `cookieId`. */
export async function readTemplate(store: KeyValueStore, cookieId: string): Promise<Template> {
  const missing = (what: string): never => {
    throw new Error(`the signed-in session has no ${what} record: have the store's keys changed (store-keys.ts)?`);
  };
  const session = (await store.get<Template['session']>(KEYS.session(cookieId))) ?? missing('session');
  const grant = (await store.get<Template['grant']>(KEYS.grant(session.sid))) ?? missing('grant');
  const user = (await store.get<string>(KEYS.sessionUser(session.sid))) ?? missing('session-user');
  if (!(await store.get(KEYS.user(user)))) missing('user index');
  if (grant.as_session && !(await store.get(KEYS.asSession(grant.as_session)))) missing('as-session');
  return { session, grant, user };
}

/** The writes of one clone of `template`, under new ids. */
function writeClone(
  store: KeyValueStore,
  template: Template,
  now: number,
  { cookieId, sid, user: suffix }: ReturnType<ReturnType<typeof ids>>,
): Array<Promise<void>> {
  const sub = `${String(template.session.claims.sub)}.${suffix}`;
  const user = `${template.user.slice(0, template.user.lastIndexOf(' '))} ${sub}`;
  const ttlMs = Math.max(1, template.session.expires_at - now);
  // An AS session id is opaque to the backend: the template's, its last part made unique.
  const asSession = template.grant.as_session?.replace(/[^ ]*$/, sid);
  const writes = [
    store.set(KEYS.session(cookieId), { ...template.session, sid, claims: { ...template.session.claims, sub } }, ttlMs),
    store.set(KEYS.grant(sid), { ...template.grant, ...(asSession ? { as_session: asSession } : {}) }, ttlMs),
    store.set(KEYS.sessionUser(sid), user, ttlMs),
    store.set(KEYS.user(user), { ids: [sid], ends_at: now + ttlMs }, ttlMs),
  ];
  if (asSession) writes.push(store.set(KEYS.asSession(asSession), sid, ttlMs));
  return writes;
}

/** How often a batch is written again when the store did not answer in time (a loaded machine). */
const ATTEMPTS = 3;

/**
 * Adds `count` clones of `template` to `store`, `batch` at a time: each batch's writes are issued at
 * once (Redis pipelines them; a lowdb store coalesces them into one flush) and awaited together. A
 * batch the store did not answer in time (`StoreUnavailable`) is written again, under the same ids.
 */
export async function addClones(store: KeyValueStore, template: Template, count: number, batch: number) {
  for (let done = 0; done < count; ) {
    const size = Math.min(batch, count - done);
    const now = Date.now();
    const idsOf = ids(size);
    for (let attempt = 1; ; attempt += 1) {
      const writes: Array<Promise<void>> = [];
      for (let i = 0; i < size; i += 1) writes.push(...writeClone(store, template, now, idsOf(i)));
      const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
      if (!failed) break;
      if (!(failed.reason instanceof StoreUnavailable) || attempt === ATTEMPTS) throw failed.reason;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    done += size;
  }
}
