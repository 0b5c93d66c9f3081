/**
 * TokenService on its own, with an authorization server that records what it is asked: the cache key
 * (D8) in a world the demo seed cannot show, where two resources share a scope name.
 */
import { MemoryStore } from '@tmi-bff/store';
import test from 'ava';
import { type AuthorizationServer, type GrantResult, TokenService } from '../src/index.js';

const ORDERS = 'https://api.example/orders';
const INVOICES = 'https://api.example/invoices';
const session = { id: 's1', claims: { sub: 'alice' } };

function recordingAs() {
  const calls: Array<{ resources: string[]; scope: string | undefined }> = [];
  let serial = 0;
  const as: AuthorizationServer = {
    async refresh(_rt, request): Promise<GrantResult> {
      calls.push({ resources: request.resources, scope: request.scope });
      serial += 1;
      return {
        access_token: `at-${serial}-${request.resources.join(',')}`,
        refresh_token: `rt-${serial}`,
        expires_in: 300,
        ...(request.scope ? { scope: request.scope } : { scope: 'read' }),
      };
    },
    exchange: async () => {
      throw new Error('not used');
    },
    revokeRefreshToken: async () => ({ revoked: true }),
  };
  return { as, calls };
}

async function service() {
  const { as, calls } = recordingAs();
  const tokens = new TokenService({ store: new MemoryStore(), authorizationServer: as });
  await tokens.startGrant(session.id, { refreshToken: 'rt-0', resources: [ORDERS, INVOICES], scope: 'read' }, 3600_000);
  return { tokens, calls };
}

test('D8 (TMI-24): resources that share a scope name never share a cached token', async (t) => {
  const { tokens, calls } = await service();
  const orders = await tokens.getToken(session, { resources: [ORDERS], scopes: ['read'], fresh: false });
  const invoices = await tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false });
  t.not(invoices.token.access_token, orders.token.access_token);
  t.deepEqual(invoices.token.resources, [INVOICES]);
  t.is(invoices.source, 'refresh');
  t.deepEqual(
    calls.map((c) => c.resources),
    [[ORDERS], [INVOICES]],
  );
  // Each is then served from its own entry.
  const again = await tokens.getToken(session, { resources: [INVOICES], scopes: ['read'], fresh: false });
  t.is(again.source, 'cache');
  t.is(again.token.access_token, invoices.token.access_token);
  const both = await tokens.getToken(session, { resources: [INVOICES, ORDERS], scopes: ['read'], fresh: false });
  t.is(both.source, 'refresh', 'a resource set is its own key');
  t.is(calls.length, 3);
});

test('D8: with no scope asked, the second request is a cache hit, whatever scope the AS answered', async (t) => {
  const { tokens, calls } = await service();
  const first = await tokens.getToken(session, { resources: [ORDERS], scopes: [], fresh: false });
  t.is(first.token.scope, 'read');
  const second = await tokens.getToken(session, { resources: [ORDERS], scopes: [], fresh: false });
  t.is(second.source, 'cache');
  t.is(calls.length, 1);
});
