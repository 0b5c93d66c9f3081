import test from 'ava';
import {
  InsufficientScope,
  InvalidToken,
  ResourceServerError,
  TemporarilyUnavailable,
  toErrorBody,
} from '../src/index.js';
import { answer, assertBearerError, mint, start } from './_setup.js';

test('RFC 6750 §3.1: an InsufficientScope a route throws after requireAccessToken is written by the same handler', async (t) => {
  const rs = await start(t);
  rs.handlers['/exchange'] = async function exchange() {
    throw new InsufficientScope('the AS refused to downscope', 'b c');
  };
  const res = await rs.send(await mint(rs.claims()), '/exchange');
  await assertBearerError(t, res, {
    status: 403,
    error: 'insufficient_scope',
    description: 'the AS refused to downscope',
    scope: 'b c',
  });
});

test('an error that is not the package’s passes through to the app (Koa’s own 500, no Bearer challenge)', async (t) => {
  const rs = await start(t);
  rs.app.silent = true;
  rs.handlers['/broken'] = async function broken() {
    throw new Error('database down');
  };
  const res = await rs.send(await mint(rs.claims()), '/broken');
  t.is(res.status, 500);
  t.is(res.headers.get('www-authenticate'), null);
  t.is(await res.text(), 'Internal Server Error');
});

test('an outage reaches the app’s error event with what failed in error_detail, which never goes on the wire', async (t) => {
  const rs = await start(t);
  const seen: unknown[] = [];
  rs.app.on('error', (err) => seen.push(err));
  rs.as.jwks = 'error';
  const got = await answer(await rs.send(await mint(rs.claims())));
  t.is(got.status, 503);
  t.deepEqual(Object.keys(got.body), ['error', 'error_description']);
  t.is(seen.length, 1);
  t.true(seen[0] instanceof TemporarilyUnavailable);
  t.regex(String((seen[0] as TemporarilyUnavailable).error_detail), /^AS JWK Set: JOSEError: Expected 200 OK/);
  t.false(JSON.stringify(got.body).includes('200 OK'));
});

test('toErrorBody: the code and description of an exposed error, a generic server_error for anything else', (t) => {
  t.deepEqual(toErrorBody(new InvalidToken('the access token expired', { detail: 'secret detail' })), {
    error: 'invalid_token',
    error_description: 'the access token expired',
  });
  t.deepEqual(toErrorBody(new TemporarilyUnavailable('jwks_uri answered 502')), {
    error: 'temporarily_unavailable',
    error_description: "the authorization server's keys could not be fetched; try again shortly",
  });
  const generic = { error: 'server_error', error_description: 'the resource server failed unexpectedly; see its log' };
  t.deepEqual(toErrorBody(new ResourceServerError('oops', 'internal detail', { status: 500 })), generic);
  t.deepEqual(toErrorBody(new Error('boom')), generic);
});

test('RFC 6750 §3: challenge values drop the characters the grammar excludes (quotes, backslashes, non-ASCII)', (t) => {
  const err = new InsufficientScope('needs "b" \\ or ç', 'b');
  t.is(
    err.headers['WWW-Authenticate'],
    'Bearer error="insufficient_scope", error_description="needs b  or ", scope="b"',
  );
  t.is(err.error_description, 'needs "b" \\ or ç', 'the body keeps the description as it is');
});
