/**
 * The error classes on their own, without a server: each one's status, code, message, challenge,
 * headers and exposure, and what the one serializer makes of it (RFC 6750 §3).
 */
import test from 'ava';
import {
  CredentialsRequired,
  InsufficientScope,
  InvalidRequest,
  InvalidToken,
  RETRY_AFTER_SECONDS,
  ResourceServerError,
  TemporarilyUnavailable,
  toErrorBody,
} from '../src/index.js';

test('RFC 6750 §3.1: a request without credentials gets a bare Bearer challenge, no code, and an empty body', (t) => {
  const err = new CredentialsRequired();
  t.is(err.status, 401);
  t.is(err.error, undefined);
  t.is(err.name, 'CredentialsRequired');
  t.is(err.message, 'authentication required');
  t.true(err.expose);
  t.deepEqual(err.headers, { 'WWW-Authenticate': 'Bearer' });
  t.deepEqual(toErrorBody(err), {});
});

test('RFC 6750 §3.1: invalid_request and invalid_token carry their status, code, description and challenge', (t) => {
  const bad = new InvalidRequest('the Authorization header is not Bearer');
  t.is(bad.status, 400);
  t.is(bad.error, 'invalid_request');
  t.is(bad.name, 'InvalidRequest');
  t.is(bad.message, 'the Authorization header is not Bearer');
  t.deepEqual(bad.headers, {
    'WWW-Authenticate': 'Bearer error="invalid_request", error_description="the Authorization header is not Bearer"',
  });
  const cause = new Error('signature');
  const expired = new InvalidToken('the access token expired', { detail: 'exp 5 s ago', cause });
  t.is(expired.status, 401);
  t.is(expired.error, 'invalid_token');
  t.is(expired.error_detail, 'exp 5 s ago');
  t.is(expired.cause, cause);
  t.is(expired.scope, undefined);
  t.deepEqual(expired.headers, {
    'WWW-Authenticate': 'Bearer error="invalid_token", error_description="the access token expired"',
  });
});

test('RFC 6750 §3.1: insufficient_scope names the scope needed, in the error and in the challenge', (t) => {
  const err = new InsufficientScope('this route needs a b', 'a b');
  t.is(err.status, 403);
  t.is(err.scope, 'a b');
  t.is(
    err.headers['WWW-Authenticate'],
    'Bearer error="insufficient_scope", error_description="this route needs a b", scope="a b"',
  );
});

test('RFC 6750 §3: the challenge keeps every printable ASCII character but the quote and the backslash', (t) => {
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
  const kept = printable.replace(/["\\]/g, '');
  const err = new InvalidToken(`\t${printable}\u007f`);
  t.is(err.headers['WWW-Authenticate'], `Bearer error="invalid_token", error_description="${kept}"`);
});

test('an outage: 503 temporarily_unavailable, exposed although 5xx, with Retry-After and no challenge; what failed stays in error_detail', (t) => {
  const cause = new Error('ECONNREFUSED');
  const err = new TemporarilyUnavailable('jwks_uri: ECONNREFUSED', cause);
  t.is(RETRY_AFTER_SECONDS, 5);
  t.is(err.status, 503);
  t.true(err.expose);
  t.deepEqual(err.headers, { 'Retry-After': '5' });
  t.is(err.error_detail, 'jwks_uri: ECONNREFUSED');
  t.is(err.cause, cause);
  t.false(JSON.stringify(toErrorBody(err)).includes('ECONNREFUSED'));
});

test('exposure defaults to status < 500; an exposed error without a description is its code alone; headers are copied', (t) => {
  const headers = { 'X-Why': 'test' };
  const err = new ResourceServerError('invalid_token', undefined, { status: 499, headers });
  t.true(err.expose);
  t.is(err.message, 'invalid_token');
  t.deepEqual(toErrorBody(err), { error: 'invalid_token' });
  headers['X-Why'] = 'changed';
  t.deepEqual(err.headers, { 'X-Why': 'test' });
  t.false(new ResourceServerError('x', 'y', { status: 500 }).expose);
  t.false(new ResourceServerError('x', 'y', { status: 400, expose: false }).expose);
  t.deepEqual(toErrorBody(new ResourceServerError('x', 'y', { status: 400, expose: false })), {
    error: 'server_error',
    error_description: 'the resource server failed unexpectedly; see its log',
  });
});
