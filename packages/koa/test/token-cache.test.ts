/**
 * D8: the token cache on its own, with a clock the test moves. Only an exact key match is served,
 * and only outside the expiry margin; a token's lifetime counts from when its request left for the
 * AS (TMI-BFF-01 §4.2, TMI-19); a broader token never answers a narrower request (§8.3, TMI-24).
 */
import test from 'ava';
import { cacheKey } from '../src/tokens/cache-key.js';
import { scopeBeyond, TokenCache } from '../src/tokens/token-cache.js';
import type { HeldToken, StoredGrant } from '../src/tokens/types.js';

const API = 'https://api.example/orders';
const OTHER = 'https://api.example/invoices';
const MARGIN = 30_000;

function setup(start = 1_000_000) {
  const clock = { now: start };
  const cache = new TokenCache({ now: () => clock.now, marginMs: MARGIN, assumedLifetimeMs: 60_000 });
  const grant: StoredGrant = { resources: [API], scope: 'openid read write', tokens: {} };
  return { clock, cache, grant };
}

function token(scope: string, expiresAt: number, resources = [API]): HeldToken {
  return { access_token: `at-${scope}-${expiresAt}`, scope, resources, expires_at: expiresAt };
}

test('D8: lookup serves an exact key only while the token is outside the expiry margin', (t) => {
  const { clock, cache, grant } = setup();
  const held = token('read', clock.now + MARGIN + 1);
  const key = cacheKey([API], ['read']);
  grant.tokens[key] = held;
  t.is(cache.lookup(grant, key), held);
  t.is(cache.lookup(grant, cacheKey([API], ['read', 'write'])), undefined, 'another key is a miss');
  clock.now += 1; // exactly the margin left: not served
  t.is(cache.lookup(grant, key), undefined);
});

test('D8: lookup without a grant record is a miss, not an error', (t) => {
  const { cache } = setup();
  t.is(cache.lookup(undefined, cacheKey([API], [])), undefined);
});

test('D9: covering finds a fresh token for exactly the resource whose scope covers every scope asked', (t) => {
  const { clock, cache, grant } = setup();
  const later = clock.now + 10 * MARGIN;
  const both = token('read write', later);
  grant.tokens.both = both;
  t.is(cache.covering(grant, API, ['read']), both);
  t.is(cache.covering(grant, API, ['write', 'read']), both);
  t.is(cache.covering(grant, API, []), both, 'no scope asked: any token for the resource');
  t.is(cache.covering(grant, API, ['read', 'admin']), undefined, 'one scope it lacks is enough to refuse');
  t.is(cache.covering(grant, OTHER, ['read']), undefined, 'another resource');
});

test('D9: covering refuses a token for several resources, or for another one, or within the margin', (t) => {
  const { clock, cache, grant } = setup();
  const later = clock.now + 10 * MARGIN;
  grant.tokens.two = token('read', later, [API, OTHER]);
  t.is(cache.covering(grant, API, ['read']), undefined, 'audience of two resources');
  grant.tokens.two = token('read', later, [OTHER, API]);
  t.is(cache.covering(grant, OTHER, ['read']), undefined, 'audience of two resources, in the other order');
  grant.tokens.other = token('read', later, [OTHER]);
  t.is(cache.covering(grant, API, ['read']), undefined, 'one resource, not this one');
  grant.tokens.stale = token('read', clock.now + MARGIN, [API]);
  t.is(cache.covering(grant, API, ['read']), undefined, 'within the margin');
  const fresh = token('read', later, [API]);
  grant.tokens.fresh = fresh;
  t.is(cache.covering(grant, API, ['read']), fresh);
});

test('D8: remember keeps a token under its request key and its actual scope, and drops expired ones', (t) => {
  const { clock, cache, grant } = setup();
  grant.tokens.expired = token('read', clock.now);
  grant.tokens.expiring = token('read', clock.now + 1);
  const held = token('write read', clock.now + 300_000);
  const requestKey = cacheKey([API], []);
  cache.remember(grant, held, requestKey);
  t.deepEqual(Object.keys(grant.tokens).sort(), [cacheKey([API], ['read', 'write']), 'expiring', requestKey].sort());
  t.is(grant.tokens[requestKey], held);
  t.is(grant.tokens[cacheKey([API], ['read', 'write'])], held);
});

test('D8: remember with no request key keeps the token under its actual scope only', (t) => {
  const { clock, cache, grant } = setup();
  const held = token('read', clock.now + 300_000);
  cache.remember(grant, held, undefined);
  t.deepEqual(Object.keys(grant.tokens), [cacheKey([API], ['read'])]);
});

test('a knob: expireAll ends every cached token now and says how many it held', (t) => {
  const { clock, cache, grant } = setup();
  grant.tokens.a = token('read', clock.now + 300_000);
  grant.tokens.b = token('write', clock.now - 5);
  t.is(cache.expireAll(grant), 2);
  t.is(grant.tokens.a?.expires_at, clock.now);
  t.is(grant.tokens.b?.expires_at, clock.now - 5, 'an earlier end stays');
  t.is(cache.now(), clock.now);
});

test('TMI-BFF-01 §4.2 (TMI-19): a held token lives expires_in from when the request left, or the assumed lifetime', (t) => {
  const { cache } = setup();
  const request = { resources: [API], scopes: ['write', 'read'] };
  const asked = 5_000;
  t.deepEqual(cache.held({ access_token: 'a', expires_in: 120, scope: 'write read' }, request, 'openid', asked), {
    access_token: 'a',
    scope: 'read write',
    resources: [API],
    expires_at: asked + 120_000,
  });
  t.is(cache.held({ access_token: 'b', expires_in: 0 }, request, 'openid', asked).expires_at, asked);
  t.is(cache.held({ access_token: 'c' }, request, 'openid', asked).expires_at, asked + 60_000, 'no expires_in');
});

test('RFC 6749 §5.1: an answer without scope holds the requested scope, or the fallback when none was asked', (t) => {
  const { cache } = setup();
  t.is(cache.held({ access_token: 'a' }, { resources: [API], scopes: ['write', 'read'] }, 'x', 0).scope, 'read write');
  t.is(cache.held({ access_token: 'b' }, { resources: [API], scopes: [] }, 'read openid', 0).scope, 'openid read');
  t.is(cache.held({ access_token: 'c' }, { resources: [API], scopes: [] }, '', 0).scope, '');
});

test('TMI-BFF-01 §8.3 (TMI-24): scopeBeyond names the scopes a token has that the request did not ask for', (t) => {
  const held = token('read write admin', 0);
  t.deepEqual(scopeBeyond(held, ['read']), ['admin', 'write']);
  t.deepEqual(scopeBeyond(held, ['read', 'write', 'admin']), []);
  t.deepEqual(scopeBeyond(held, []), [], 'no scope asked: nothing is beyond it');
});
