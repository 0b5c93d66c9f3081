/**
 * D6: describeAsFailure names each fault of an AS that gave no usable OAuth answer, from the errors
 * openid-client and fetch throw (their codes, names and cause chains, built here in the shapes those
 * libraries use). openid-client.test.ts meets the same faults for real, against the mock AS.
 */
import test from 'ava';
import { describeAsFailure, TemporarilyUnavailable } from '../src/index.js';

const ISSUER = 'https://as.example';

/** An error as openid-client throws it: a message, oauth4webapi's code, and a cause. */
function clientError(message: string, code?: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), {
    name: 'ClientError',
    ...(code ? { code } : {}),
  });
}

/** fetch's failure: a TypeError whose cause carries the socket's code. */
function fetchFailed(code: string, depth = 1): Error {
  let cause: unknown = Object.assign(new Error(`connect ${code}`), { code });
  for (let i = 1; i < depth; i += 1) cause = new Error('wrapped', { cause });
  return new TypeError('fetch failed', { cause });
}

test('D6: a connection that never happened is unreachable, for each socket code and undici error, through up to five causes', (t) => {
  for (const code of [
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'EPIPE',
    'UND_ERR_SOCKET',
  ]) {
    t.deepEqual(describeAsFailure(fetchFailed(code), ISSUER), {
      reason: 'unreachable',
      detail: `TypeError: fetch failed (${code})`,
      description: `the authorization server (${ISSUER}) could not be reached; try again shortly`,
    });
  }
  t.is(describeAsFailure(fetchFailed('ECONNREFUSED', 4)).reason, 'unreachable');
  // Deeper than five causes, or a code that is not a network one, is not taken for one.
  t.is(describeAsFailure(fetchFailed('ECONNREFUSED', 5)).reason, 'bad_response');
  t.is(describeAsFailure(fetchFailed('ERR_SOMETHING')).reason, 'bad_response');
  t.is(describeAsFailure(Object.assign(new Error('x'), { code: 42 })).reason, 'bad_response');
});

test('D6: a time limit reached is a timeout, however the library words it', (t) => {
  const timeouts = [
    clientError('operation timed out', 'OAUTH_TIMEOUT'),
    Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
    new TypeError('fetch failed', { cause: Object.assign(new Error('aborted'), { name: 'TimeoutError' }) }),
    new TypeError('fetch failed', { cause: Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }),
    // Deeper in the chain, as openid-client wraps what fetch threw; and undici's body time limit.
    clientError('x', 'OAUTH_PARSE_ERROR', fetchFailed('UND_ERR_HEADERS_TIMEOUT', 2)),
    fetchFailed('UND_ERR_BODY_TIMEOUT', 3),
    clientError('x', 'OAUTH_INVALID_RESPONSE', fetchFailed('OAUTH_TIMEOUT', 2)),
  ];
  for (const err of timeouts) {
    const failure = describeAsFailure(err, ISSUER);
    t.is(failure.reason, 'timeout', err.message);
    t.is(failure.description, `the authorization server (${ISSUER}) did not answer in time; try again shortly`);
    t.is(failure.detail, `${err.name}: ${err.message}`);
  }
});

test('D6: an answer cut off while its body was read is a broken answer, not an unreachable AS', (t) => {
  for (const code of ['OAUTH_PARSE_ERROR', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_INVALID_RESPONSE']) {
    const err = clientError('body', code, fetchFailed('ECONNRESET'));
    t.deepEqual(describeAsFailure(err), {
      reason: 'bad_response',
      detail: 'ClientError: body (ECONNRESET)',
      description: 'the authorization server broke off its answer before the end; try again shortly',
    });
  }
  // Any other code with a network cause: the AS was not reached.
  t.is(
    describeAsFailure(clientError('x', 'OAUTH_RESPONSE_IS_NOT_CONFORM', fetchFailed('ECONNRESET'))).reason,
    'unreachable',
  );
});

test('D6: metadata without the endpoint an operation needs names the member', (t) => {
  const named = clientError('x', 'OAUTH_MISSING_SERVER_METADATA', { attribute: 'end_session_endpoint' });
  t.deepEqual(describeAsFailure(named, ISSUER), {
    reason: 'unsupported',
    detail: 'ClientError: x',
    description: `the authorization server (${ISSUER}) does not advertise end_session_endpoint in its metadata`,
  });
  // openid-client's own wording names it as "as.<member>"; an attribute on a deeper cause counts too.
  const worded = clientError('"as.revocation_endpoint" must be a string', 'OAUTH_MISSING_SERVER_METADATA');
  t.regex(describeAsFailure(worded).description, /does not advertise revocation_endpoint in/);
  const deep = clientError(
    'x',
    'OAUTH_MISSING_SERVER_METADATA',
    new Error('y', { cause: { attribute: 'userinfo_endpoint' } }),
  );
  t.regex(describeAsFailure(deep).description, /does not advertise userinfo_endpoint in/);
  t.is(
    describeAsFailure(clientError('x', 'OAUTH_MISSING_SERVER_METADATA')).description,
    'the authorization server does not advertise the endpoint this needs in its metadata',
  );
  // The member is looked for through four causes, not five (a cause chain is not followed forever).
  let four: unknown = { attribute: 'jwks_uri' };
  for (let i = 0; i < 3; i += 1) four = new Error('wrapped', { cause: four });
  t.regex(
    describeAsFailure(clientError('x', 'OAUTH_MISSING_SERVER_METADATA', four)).description,
    /advertise jwks_uri in/,
  );
  const five = new Error('wrapped', { cause: four });
  t.regex(
    describeAsFailure(clientError('x', 'OAUTH_MISSING_SERVER_METADATA', five)).description,
    /advertise the endpoint this needs in/,
  );
  // Not an Error at all: no message to read the member from.
  t.is(
    describeAsFailure({ code: 'OAUTH_MISSING_SERVER_METADATA', message: '"as.jwks_uri"' }).description,
    'the authorization server does not advertise the endpoint this needs in its metadata',
  );
});

test('D6: an answer that is not OAuth JSON names its status and content type', (t) => {
  const html = new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } });
  t.deepEqual(describeAsFailure(clientError('not json', 'OAUTH_RESPONSE_IS_NOT_JSON', html)), {
    reason: 'bad_response',
    detail: 'ClientError: not json',
    description:
      'the authorization server answered something that is not OAuth JSON (HTTP 502, text/html); try again shortly',
  });
  const untyped = new Response(null, { status: 500 });
  untyped.headers.delete('content-type');
  t.is(
    describeAsFailure(clientError('x', 'OAUTH_RESPONSE_IS_NOT_CONFORM', untyped)).description,
    'the authorization server answered HTTP 500, no content type without an OAuth error; try again shortly',
  );
  t.is(
    describeAsFailure(clientError('x', 'OAUTH_RESPONSE_IS_NOT_CONFORM', { status: 500 })).description,
    'the authorization server answered an unexpected answer without an OAuth error; try again shortly',
  );
});

test('D6: a malformed answer, and an unknown failure, each have their own sentence', (t) => {
  for (const code of ['OAUTH_PARSE_ERROR', 'OAUTH_INVALID_RESPONSE']) {
    t.deepEqual(describeAsFailure(clientError('bad', code), ISSUER), {
      reason: 'bad_response',
      detail: 'ClientError: bad',
      description: `the authorization server (${ISSUER}) answered with a malformed response; try again shortly`,
    });
  }
  t.deepEqual(describeAsFailure('a string'), {
    reason: 'bad_response',
    detail: 'a string',
    description: 'the authorization server failed unexpectedly; try again shortly',
  });
  t.is(describeAsFailure(null).detail, 'null');
  t.is(describeAsFailure(undefined).reason, 'bad_response');
});

test('D6: metadata of another issuer points at the issuer setting; another member compared is a bad answer', (t) => {
  const issuer = clientError('x', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', { attribute: 'issuer' });
  const expected = {
    reason: 'bad_metadata',
    detail: 'ClientError: x',
    description: `the metadata of the authorization server (${ISSUER}) does not match: check that the configured issuer is its exact issuer identifier`,
  };
  t.deepEqual(describeAsFailure(issuer, ISSUER), expected);
  t.deepEqual(describeAsFailure(clientError('x', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED'), ISSUER), expected);
  t.deepEqual(describeAsFailure(clientError('x', 'OAUTH_INVALID_SERVER_METADATA'), ISSUER), expected);
  // OIDC Core §5.3.2: userinfo about another subject.
  const sub = clientError('y', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', { attribute: 'sub' });
  t.deepEqual(describeAsFailure(sub, ISSUER), {
    reason: 'bad_response',
    detail: 'ClientError: y',
    description: `the authorization server (${ISSUER}) answered with an unexpected sub value`,
  });
  // Said only in the message, as openid-client's discovery does without a code.
  t.deepEqual(describeAsFailure(clientError('discovered metadata issuer does not match the expected issuer')), {
    reason: 'bad_metadata',
    detail: 'ClientError: discovered metadata issuer does not match the expected issuer',
    description: 'the metadata of the authorization server names another issuer: configure its exact issuer identifier',
  });
});

test('a TemporarilyUnavailable stands for its cause; one without a cause is described as itself', (t) => {
  const wrapped = new TemporarilyUnavailable('x', { cause: fetchFailed('ECONNREFUSED') });
  t.is(describeAsFailure(wrapped, ISSUER).reason, 'unreachable');
  const bare = describeAsFailure(new TemporarilyUnavailable('plain'));
  t.is(bare.reason, 'bad_response');
  t.is(bare.detail, 'TemporarilyUnavailable: temporarily_unavailable: plain');
});
