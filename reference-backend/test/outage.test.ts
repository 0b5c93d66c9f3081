import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockAs } from '@tmi-bff/mock-as';
import test from 'ava';
import { STOCKS, startStack } from './_setup.js';

test('D6 (TMI-29): AS stopped → temporarily_unavailable at once; AS back → the same session gets a token, nothing lost', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'outage-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const stack = await startStack(t, { as: { dataDir } });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  const port = Number(new URL(stack.as.issuer).port);
  await stack.as.close();

  const started = Date.now();
  const down = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.true(Date.now() - started < 2000, 'within the timeout');
  t.is(down.status, 400);
  t.deepEqual(down.body, {
    error: 'temporarily_unavailable',
    error_description: 'the authorization server could not be reached; try again shortly',
  });
  t.is((await alice.sessionInfo()).status, 200, 'the session is kept');

  const back = await startMockAs({ seed: stack.seed, dataDir, port, issuer: stack.as.issuer, log: () => {} });
  t.teardown(() => back.close());
  t.is(Number(new URL(back.issuer).port), port);
  const up = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(up.status, 200, JSON.stringify(up.body));
  t.is(up.body.scope, 'stocks:read');
});

test('D6: a slow AS → temporarily_unavailable after the timeout; the late answer is kept and its rotated refresh token used next', async (t) => {
  const logs: string[] = [];
  const stack = await startStack(t, {
    backend: { tokens: { asTimeoutMs: 300 }, log: (line) => logs.push(line) },
  });
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });

  // Hold the AS's token endpoint until released: a real AS, answering late.
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  stack.interceptAs(async (req) => {
    if (req.url?.startsWith('/token')) {
      arrived();
      await held;
    }
    return false;
  });

  const started = Date.now();
  const slow = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  const waited = Date.now() - started;
  t.is(slow.status, 400);
  t.deepEqual(slow.body, {
    error: 'temporarily_unavailable',
    error_description: 'the authorization server did not answer in time; try again shortly',
  });
  t.true(
    logs.some((l) => l.startsWith('bff.token.error') && l.includes('timeout: no answer from the AS within 300 ms')),
  );
  t.true(waited >= 300 && waited < 1500, `answered after ${waited} ms`);
  await reached;

  const from = stack.grants.length;
  release();
  // The next request joins the held refresh (or reads what it stored): no second AS request.
  const next = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(next.status, 200, JSON.stringify(next.body));
  t.deepEqual(
    stack.grants.slice(from).map((g) => [g.grant_type, g.ok]),
    [['refresh_token', true]],
    'only the late refresh reached the AS',
  );
  const other = await alice.token({ resource: STOCKS, scope: 'stocks:buy' });
  t.is(other.status, 200, 'the rotated refresh token from the late answer works');
  const presented = stack.grants.slice(from).map((g) => g.refresh_token);
  t.is(new Set(presented).size, 2, 'no refresh token was presented twice');
});

test('D6: an AS that answers garbage → temporarily_unavailable, never a 5xx', async (t) => {
  const stack = await startStack(t);
  const alice = stack.browser();
  await alice.signIn({ persona: 'alice' });
  stack.interceptAs(async (req, res) => {
    if (!req.url?.startsWith('/token')) return false;
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
    return true;
  });
  const res = await alice.token({ resource: STOCKS, scope: 'stocks:read' });
  t.is(res.status, 400);
  t.like(res.body, { error: 'temporarily_unavailable' });
});
