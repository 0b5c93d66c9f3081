import test from 'ava';
import type { Context } from 'koa';
import { InsufficientScope, requireScope } from '../src/index.js';
import { assertBearerError, mint, start } from './_setup.js';

// The test server's /orders route is `requireScope('stocks:read', 'stocks:buy')`.
const needsBoth = {
  status: 403,
  error: 'insufficient_scope',
  description: 'this route needs stocks:read stocks:buy',
  scope: 'stocks:read stocks:buy',
};

test('RFC 6750 §3.1: a route that requires two scopes refuses a token holding only one of them with 403 insufficient_scope; the scope param lists both', async (t) => {
  const rs = await start(t);
  for (const scope of ['stocks:read', 'stocks:buy', 'stocks:read:all stocks:buy']) {
    const res = await rs.send(await mint(rs.claims({ scope })), '/orders');
    await assertBearerError(t, res, needsBoth, scope);
  }
});

test('a route that requires two scopes accepts a token holding both, in any order and among others', async (t) => {
  const rs = await start(t);
  for (const scope of ['stocks:read stocks:buy', 'openid stocks:buy stocks:read']) {
    const res = await rs.send(await mint(rs.claims({ scope })), '/orders');
    t.is(res.status, 200, scope);
    t.like(await res.json(), { scope }, scope);
  }
});

test('RFC 6750 §3.1: a token without a scope claim, or with an empty one, holds no scope: 403 insufficient_scope', async (t) => {
  const rs = await start(t);
  const payload = rs.claims();
  delete payload.scope;
  await assertBearerError(t, await rs.send(await mint(payload), '/orders'), needsBoth, 'no scope claim');
  await assertBearerError(t, await rs.send(await mint(rs.claims({ scope: '' })), '/orders'), needsBoth, 'scope ""');
});

test('RFC 6750 §3.1: without a checked token (requireScope mounted alone) the route holds no scope: insufficient_scope, not a crash', async (t) => {
  let reached = false;
  const err = await t.throwsAsync(
    requireScope('stocks:read')({ state: {} } as Context, async () => {
      reached = true;
    }),
    { instanceOf: InsufficientScope },
  );
  t.is(err?.scope, 'stocks:read');
  t.false(reached);
});
