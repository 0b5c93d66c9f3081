/**
 * The development-only fault control route (faults.ts): off by default, open only to registered
 * clients, strict about its input; "down" refuses every other request at the socket.
 */
import { FAULTS_PATH } from '@tmi-bff/mock-as';
import test from 'ava';
import { CLIENTS, startAs } from './_setup.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const AS_BFF = basic('bff', CLIENTS.bff);

test('without faults: { enabled: true } the control route does not exist: the 404 of any unknown path', async (t) => {
  const as = await startAs(t);
  const unknown = await fetch(`${as.issuer}/no-such-route`, { method: 'POST', headers: { authorization: AS_BFF } });
  const expected = { status: unknown.status, body: await unknown.text() };
  t.is(expected.status, 404);
  for (const path of [FAULTS_PATH, `${FAULTS_PATH}/down`, `${FAULTS_PATH}/fail`]) {
    const res = await fetch(`${as.issuer}${path}`, { method: 'POST', headers: { authorization: AS_BFF } });
    t.deepEqual({ status: res.status, body: await res.text() }, expected, path);
  }
});

test('the control route answers only a registered client with its own secret: else 401 invalid_client', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  for (const authorization of [
    undefined,
    basic('bff', 'wrong'),
    basic('nobody', 'x'),
    'Bearer abc',
    'Basic %%%',
    basic('%E0%A4%A', 'x'),
    basic('bff', '%'),
  ]) {
    const res = await fetch(`${as.issuer}${FAULTS_PATH}/down`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
    });
    t.is(res.status, 401, String(authorization));
    t.is(res.headers.get('www-authenticate'), 'Basic realm="mock-as control"');
    t.deepEqual(await res.json(), {
      error: 'invalid_client',
      error_description:
        'the control routes take HTTP Basic authentication with the client_id and client_secret of a client registered at this AS with a secret',
    });
  }
  t.false(as.faults?.state().down, 'nothing changed');
});

test('down refuses every other request at the socket, as a stopped server would; up serves again', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  const down = await fetch(`${as.issuer}${FAULTS_PATH}/down`, { method: 'POST', headers: { authorization: AS_BFF } });
  t.deepEqual(await down.json(), { down: true, fail: null });
  const refused = await fetch(`${as.issuer}/.well-known/openid-configuration`).catch((err: Error) => err);
  t.true(refused instanceof Error, 'no HTTP answer at all');
  const state = await fetch(`${as.issuer}${FAULTS_PATH}`, { headers: { authorization: AS_BFF } });
  t.deepEqual(await state.json(), { down: true, fail: null }, 'the control route still answers');
  await fetch(`${as.issuer}${FAULTS_PATH}/up`, { method: 'POST', headers: { authorization: AS_BFF } });
  t.is((await fetch(`${as.issuer}/.well-known/openid-configuration`)).status, 200);
});

test('a failure is set, shown, and cleared with count 0; bad input is 400 invalid_request', async (t) => {
  const as = await startAs(t, { faults: { enabled: true } });
  const fail = (body: string, type = 'application/json') =>
    fetch(`${as.issuer}${FAULTS_PATH}/fail`, {
      method: 'POST',
      headers: { authorization: AS_BFF, 'content-type': type },
      body,
    });
  const set = await fail('{"count":3,"error":"consent_required","delayMs":10}');
  t.deepEqual(await set.json(), {
    down: false,
    fail: { remaining: 3, error: 'consent_required', status: 400, delayMs: 10 },
  });
  t.deepEqual(await (await fail('{"count":0,"status":500}')).json(), { down: false, fail: null });
  for (const [body, type] of [
    ['{"count":', 'application/json'],
    ['count=1', 'application/x-www-form-urlencoded'],
    [JSON.stringify({ count: 1, error: 'x'.repeat(2000) }), 'application/json'],
    ['{"count":1.5,"error":"x"}', 'application/json'],
  ] as const) {
    const res = await fail(body, type);
    t.is(res.status, 400, body.slice(0, 20));
    t.like(await res.json(), { error: 'invalid_request' });
  }
  const wrong = await fetch(`${as.issuer}${FAULTS_PATH}/sideways`, {
    method: 'POST',
    headers: { authorization: AS_BFF },
  });
  t.is(wrong.status, 404);
});
