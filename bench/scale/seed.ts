/**
 * N stored sessions, fast: the records of one real sign-in, cloned under new random ids, sealed by
 * the store's own `SealedStore` with the backend's data key, and written into each store through
 * its own class (`LowdbStore`, `RedisStore`, opened as createBackend opens them), so they are
 * sealed, laid out and indexed exactly as sign-ins leave them. Sealing is most of the cost, and
 * what it gives is the same for every store (same key, same stored keys): sealed once, written to each.
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
import { type KeyValueStore, type SealableStore, SealedStore, StoreUnavailable } from '@tmi-bff/store';

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

/** Records as a store holds them under a `SealedStore`: stored key, sealed value, time to live. */
export type SealedRecords = Array<[storedKey: string, sealed: unknown, ttlMs: number]>;

/** A store that keeps nothing: it records what a `SealedStore` over it writes. */
class Recorder implements SealableStore {
  readonly written: SealedRecords = [];
  async get<T>(): Promise<T | undefined> {
    return undefined;
  }
  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.written.push([key, value, ttlMs ?? 0]);
  }
  async delete(): Promise<void> {}
  withLock<T>(_key: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async close(): Promise<void> {}
}

/** `count` clones of `template`, sealed with `secret` (the backend's data key). */
export async function sealClones(secret: Uint8Array, template: Template, count: number): Promise<SealedRecords> {
  const recorder = new Recorder();
  const sealed = new SealedStore(recorder, { secret });
  const now = Date.now();
  const idsOf = ids(count);
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < count; i += 1) writes.push(...writeClone(sealed, template, now, idsOf(i)));
  await Promise.all(writes);
  return recorder.written;
}

/** How often a record is written again when the store did not answer in time (a loaded machine). */
const ATTEMPTS = 3;

/**
 * Writes sealed records into the store under the `SealedStore`, `concurrency` writes in flight at
 * any time: Redis pipelines them, a lowdb store coalesces them into one write per shard (so give it
 * every record at once). A write the store did not answer in time (`StoreUnavailable`) is made again.
 */
export async function writeSealed(inner: KeyValueStore, records: SealedRecords, concurrency: number): Promise<void> {
  let next = 0;
  async function writer(): Promise<void> {
    while (next < records.length) {
      const [key, value, ttlMs] = records[next++] as SealedRecords[number];
      for (let attempt = 1; ; attempt += 1) {
        try {
          await inner.set(key, value, ttlMs);
          break;
        } catch (err) {
          if (!(err instanceof StoreUnavailable) || attempt === ATTEMPTS) throw err;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, writer));
}
