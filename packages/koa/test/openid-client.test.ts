/**
 * OpenIdClient, the one place that speaks to the AS, against the real mock AS (oidc-provider) over
 * HTTP: each call's request and answer, and each kind of failure mapped to the endpoints' errors —
 * an OAuth error relayed (TMI-28), no usable answer as `temporarily_unavailable` (D6).
 */
import { createHash } from 'node:crypto';
import {
  backendSettings,
  DEFAULT_ADDRESSES,
  loadSeed,
  type RunningMockAs,
  SEED_FILE,
  startMockAs,
} from '@tmi-bff/mock-as';
import { signIn } from '@tmi-bff/mock-as/testing';
import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import {
  AuthorizationServerError,
  clientSecretBasic,
  clientSecretPost,
  OpenIdClient,
  TemporarilyUnavailable,
  toEndpointError,
} from '../src/index.js';

const BFF_ORIGIN = 'http://127.0.0.1:9';
const REDIRECT_URI = `${BFF_ORIGIN}/auth/callback`;
const STOCKS = `${DEFAULT_ADDRESSES.API_ORIGIN}/stocks`;
const SERVICE_A = `${DEFAULT_ADDRESSES.API_ORIGIN}/a`;

interface World {
  as: RunningMockAs;
  client: OpenIdClient;
  secret: string;
  login: { scope: string; resources: string[] };
}

async function world(t: ExecutionContext, options: { requestTimeoutSeconds?: number } = {}): Promise<World> {
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN });
  const as = await startMockAs({ seed, log: () => {}, faults: { enabled: true } });
  t.teardown(() => as.close());
  const { client, login } = backendSettings(seed);
  const secret = String(client.secret);
  const openIdClient = new OpenIdClient({
    issuer: as.issuer,
    clientId: client.id,
    clientAuth: clientSecretBasic(secret),
    allowInsecureRequests: true,
    ...options,
  });
  return { as, client: openIdClient, secret, login };
}

/** The mock AS's fault controls (mock-as/src/faults.ts), called as the registered client. */
async function fault(w: World, action: 'fail' | 'down' | 'up', body?: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${w.as.issuer}/_mock/faults/${action}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`bff:${w.secret}`).toString('base64')}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status !== 200) throw new Error(`fault ${action}: ${res.status} ${await res.text()}`);
}

/** A whole sign-in through the AS's forms, then the code grant: the tokens of `persona`. */
async function signedIn(w: World, persona = 'alice') {
  const request = await OpenIdClient.newAuthorizationRequest();
  const params = new URLSearchParams({
    redirect_uri: REDIRECT_URI,
    scope: w.login.scope,
    state: request.state,
    nonce: request.nonce,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    prompt: 'consent',
  });
  for (const resource of w.login.resources) params.append('resource', resource);
  const callback = await signIn(await w.client.authorizationUrl(params), { persona });
  return { request, callback, grant: await w.client.codeGrant(callback, request) };
}

async function unavailable(t: ExecutionContext, call: Promise<unknown>): Promise<TemporarilyUnavailable> {
  const err = await t.throwsAsync(call, { instanceOf: TemporarilyUnavailable });
  t.is(err?.error, 'temporarily_unavailable');
  return err as TemporarilyUnavailable;
}

test('RFC 7636 §4.1–4.2: each authorization request gets fresh state, nonce and verifier, and the S256 challenge of its verifier', async (t) => {
  const a = await OpenIdClient.newAuthorizationRequest();
  const b = await OpenIdClient.newAuthorizationRequest();
  t.is(a.codeChallenge, createHash('sha256').update(a.codeVerifier).digest('base64url'));
  t.regex(a.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
  for (const key of ['state', 'nonce', 'codeVerifier', 'codeChallenge'] as const) t.not(a[key], b[key], key);
  t.not(a.state, a.nonce);
});

test('RFC 6749 §4.1.1: the authorization URL is the discovered endpoint with client_id, response_type=code and every parameter, repeated ones kept', async (t) => {
  const w = await world(t);
  t.is(w.client.clientAuthMethod, 'client_secret_basic');
  const params = new URLSearchParams({ scope: 'openid', state: 's' });
  params.append('resource', STOCKS);
  params.append('resource', SERVICE_A);
  const url = await w.client.authorizationUrl(params);
  t.is(`${url.origin}${url.pathname}`, String((await w.client.metadata()).authorization_endpoint));
  t.is(url.searchParams.get('client_id'), 'bff');
  t.is(url.searchParams.get('response_type'), 'code');
  t.is(url.searchParams.get('state'), 's');
  t.deepEqual(url.searchParams.getAll('resource'), [STOCKS, SERVICE_A]);
  // A plain record works too.
  t.is((await w.client.authorizationUrl({ scope: 'openid' })).searchParams.get('scope'), 'openid');
});

test('RFC 6749 §4.1.3: the code grant checks state, PKCE and nonce, and returns the tokens with the ID token claims', async (t) => {
  const w = await world(t);
  const { request, grant } = await signedIn(w);
  t.truthy(grant.access_token);
  t.truthy(grant.refresh_token);
  t.truthy(grant.id_token);
  t.true(typeof grant.expires_in === 'number' && grant.expires_in > 0);
  t.is(typeof grant.scope, 'string');
  t.is(grant.claims.sub, decodeJwt(String(grant.id_token)).sub);
  t.is(grant.claims.nonce, request.nonce);
  // RFC 9700 §4.7: a callback whose state is not the request's is refused before any code redemption.
  const other = await signedIn(w);
  const wrongState = await unavailable(t, w.client.codeGrant(other.callback, { ...other.request, state: 'other' }));
  t.regex(wrongState.error_detail ?? '', /bad_response/);
  // The code cannot be spent twice (RFC 6749 §4.1.2): the AS's invalid_grant is relayed.
  const replay = await t.throwsAsync(w.client.codeGrant(other.callback, other.request), {
    instanceOf: AuthorizationServerError,
  });
  t.is(replay?.error, 'invalid_grant');
});

test('RFC 6749 §4.1.2.1: an error in the authorization response is relayed with its code and description', async (t) => {
  const w = await world(t);
  const request = await OpenIdClient.newAuthorizationRequest();
  const callback = new URL(REDIRECT_URI);
  callback.search = new URLSearchParams({
    error: 'access_denied',
    error_description: 'the user said no',
    state: request.state,
    iss: w.as.issuer,
  }).toString();
  const err = await t.throwsAsync(w.client.codeGrant(callback, request), { instanceOf: AuthorizationServerError });
  t.is(err?.error, 'access_denied');
  t.is(err?.error_description, 'the user said no');
});

test('RFC 6749 §6 with RFC 8707: a refresh sends each resource and the scope, and the AS rotates the refresh token', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  const refreshed = await w.client.refresh(String(grant.refresh_token), { resources: [STOCKS], scope: 'stocks:read' });
  t.is(refreshed.scope, 'stocks:read');
  t.deepEqual([decodeJwt(refreshed.access_token).aud].flat(), [STOCKS]);
  t.truthy(refreshed.refresh_token);
  t.not(refreshed.refresh_token, grant.refresh_token);
  // Without a scope, the grant's scopes for that resource.
  const wide = await w.client.refresh(String(refreshed.refresh_token), { resources: [STOCKS] });
  t.deepEqual(String(wide.scope).split(' ').sort(), ['stocks:buy', 'stocks:read']);
  // RFC 9700 §4.14.2: the rotated-out token is refused, and the AS's error is relayed as it is.
  const reused = await t.throwsAsync(w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] }), {
    instanceOf: AuthorizationServerError,
  });
  t.is(reused?.error, 'invalid_grant');
});

test('RFC 8693: a token exchange narrows a held access token to one resource and scope', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  const stocks = await w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] });
  const narrowed = await w.client.exchange(stocks.access_token, { resource: STOCKS, scope: 'stocks:read' });
  t.is(narrowed.scope, 'stocks:read');
  t.deepEqual([decodeJwt(narrowed.access_token).aud].flat(), [STOCKS]);
  t.is(narrowed.refresh_token, undefined);
  // A target the exchange rules do not allow is refused by the AS, and relayed.
  const refused = await t.throwsAsync(w.client.exchange(stocks.access_token, { resource: SERVICE_A, scope: 'a' }), {
    instanceOf: AuthorizationServerError,
  });
  t.regex(refused?.error ?? '', /^invalid_target|invalid_request|invalid_grant$/);
});

test('OIDC Core §5.3: userinfo answers for the signed-in subject; §5.3.2: a response about another subject is refused', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  const openid = await w.client.refresh(String(grant.refresh_token), { resources: [], scope: 'openid profile' });
  const claims = await w.client.userinfo(openid.access_token, String(grant.claims.sub));
  t.is(claims.sub, grant.claims.sub);
  t.is(claims.name, 'Alice Adams');
  const err = await unavailable(t, w.client.userinfo(openid.access_token, 'someone-else'));
  t.regex(err.error_detail ?? '', /^bad_response: /);
  t.is(err.error_description, 'the authorization server answered with an unexpected sub value');
});

test('OIDC RP-Initiated Logout 1.0 §2: the end-session URL is the discovered endpoint with the parameters', async (t) => {
  const w = await world(t);
  const url = await w.client.endSessionUrl({ client_id: 'bff', post_logout_redirect_uri: `${BFF_ORIGIN}/` });
  t.is(`${url.origin}${url.pathname}`, String((await w.client.metadata()).end_session_endpoint));
  t.is(url.searchParams.get('client_id'), 'bff');
  t.is(url.searchParams.get('post_logout_redirect_uri'), `${BFF_ORIGIN}/`);
});

test('RFC 7009: revocation ends the grant; a refused revocation and an unreachable AS are outcomes, never throws', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  t.deepEqual(await w.client.revokeRefreshToken(String(grant.refresh_token)), { revoked: true });
  const after = await t.throwsAsync(w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] }), {
    instanceOf: AuthorizationServerError,
  });
  t.is(after?.error, 'invalid_grant');
  t.truthy(after?.cause, 'what openid-client threw stays the cause');

  // A client the AS does not authenticate: refused, with the AS's words.
  const impostor = new OpenIdClient({
    issuer: w.as.issuer,
    clientId: 'bff',
    clientAuth: clientSecretPost('wrong secret'),
    allowInsecureRequests: true,
  });
  t.is(impostor.clientAuthMethod, 'client_secret_post');
  const refused = await impostor.revokeRefreshToken('whatever');
  t.like(refused, { revoked: false, reason: 'refused' });
  t.regex((refused as { description: string }).description, /^invalid_client: ./);
  // The same client in HTTP Basic gets a 401 challenge (RFC 6749 §5.2): its body's error is relayed.
  const challenged = new OpenIdClient({
    issuer: w.as.issuer,
    clientId: 'bff',
    clientAuth: clientSecretBasic('wrong secret'),
    allowInsecureRequests: true,
  });
  const challenge = await t.throwsAsync(challenged.refresh('whatever', { resources: [] }), {
    instanceOf: AuthorizationServerError,
  });
  t.is(challenge?.error, 'invalid_client');
  t.truthy(challenge?.error_description);
  t.truthy(challenge?.cause, 'the challenge stays the cause');

  await w.client.metadata();
  await fault(w, 'down');
  const down = await w.client.revokeRefreshToken('whatever');
  t.like(down, { revoked: false, reason: 'unreachable' });
  t.regex((down as { description: string }).description, /could not be reached/);
  t.regex((down as { detail: string }).detail, /\(ECONNRESET|UND_ERR_SOCKET|EPIPE\)/);
});

test('TMI-28: an OAuth error from the token endpoint is relayed whatever its HTTP status, 4xx or 5xx', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  for (const status of [400, 503]) {
    await fault(w, 'fail', { count: 1, status, error: 'temporarily_unavailable', error_description: 'try later' });
    const err = await t.throwsAsync(w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] }), {
      instanceOf: AuthorizationServerError,
    });
    t.is(err?.error, 'temporarily_unavailable', String(status));
    t.is(err?.error_description, 'try later', String(status));
  }
  // Without a description, none is made up.
  await fault(w, 'fail', { count: 1, status: 500, error: 'server_error' });
  const bare = await t.throwsAsync(w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] }), {
    instanceOf: AuthorizationServerError,
  });
  t.is(bare?.error, 'server_error');
  t.is(bare?.error_description, undefined);
  // The refresh token was never spent: it still works.
  t.truthy((await w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] })).access_token);
});

test('D6: a 5xx that is not OAuth JSON is temporarily_unavailable, naming the status and content type', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  await fault(w, 'fail', { count: 1, status: 502 });
  const err = await unavailable(t, w.client.refresh(String(grant.refresh_token), { resources: [STOCKS] }));
  t.regex(
    err.error_description ?? '',
    /^the authorization server answered HTTP 502, text\/plain.* without an OAuth error; try again shortly$/,
  );
  t.regex(err.error_detail ?? '', /^bad_response: /);
  t.truthy(err.cause);
});

test('D6: an AS slower than the request timeout is temporarily_unavailable (timeout), and the next call goes through', async (t) => {
  const w = await world(t);
  const { grant } = await signedIn(w);
  const impatient = new OpenIdClient({
    issuer: w.as.issuer,
    clientId: 'bff',
    clientAuth: clientSecretBasic(w.secret),
    allowInsecureRequests: true,
    requestTimeoutSeconds: 1,
  });
  await impatient.metadata();
  await fault(w, 'fail', { count: 1, delayMs: 20_000 });
  const started = Date.now();
  const err = await unavailable(t, impatient.refresh(String(grant.refresh_token), { resources: [STOCKS] }));
  t.true(Date.now() - started < 15_000, 'the request was cut at its time limit, not at the AS answer');
  t.is(err.error_description, 'the authorization server did not answer in time; try again shortly');
  t.regex(err.error_detail ?? '', /^timeout: /);
  t.truthy((await impatient.refresh(String(grant.refresh_token), { resources: [STOCKS] })).access_token);
});

test('D6: an AS that drops the connection is unreachable; a failed discovery is retried on the next call', async (t) => {
  const w = await world(t);
  await fault(w, 'down');
  const err = await unavailable(t, w.client.authorizationUrl({ scope: 'openid' }));
  t.is(err.error_description, 'the authorization server could not be reached; try again shortly');
  t.regex(err.error_detail ?? '', /^unreachable: .*\((ECONNRESET|UND_ERR_SOCKET|EPIPE)\)$/);
  await t.throwsAsync(w.client.metadata());
  await fault(w, 'up');
  t.is((await w.client.metadata()).issuer, w.as.issuer);
});

test('toEndpointError passes the endpoints’ own errors through unchanged', async (t) => {
  const relayed = new AuthorizationServerError('invalid_grant', 'x');
  t.is(await toEndpointError(relayed), relayed);
  const unavailableError = new TemporarilyUnavailable('down');
  t.is(await toEndpointError(unavailableError), unavailableError);
  const other = await toEndpointError(new Error('boom'));
  t.true(other instanceof TemporarilyUnavailable);
  t.is(other.error_description, 'the authorization server failed unexpectedly; try again shortly');
  t.is(other.error_detail, 'bad_response: Error: boom');
  // Not even an error: a fault all the same, never a crash.
  for (const nothing of [null, undefined]) t.true((await toEndpointError(nothing)) instanceof TemporarilyUnavailable);
});

test('TMI-28: a non-conform answer is relayed only when it is a 4xx or 5xx with an OAuth error in JSON', async (t) => {
  const notConform = (response: Response) =>
    Object.assign(new Error('not conform'), {
      name: 'ClientError',
      code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
      cause: response,
    });
  const json = (status: number, body: string, type = 'application/json') =>
    new Response(body, { status, headers: { 'content-type': type } });

  const relayed = await toEndpointError(
    notConform(json(503, '{"error":"temporarily_unavailable","error_description":"later"}')),
  );
  t.true(relayed instanceof AuthorizationServerError);
  t.like(relayed, { error: 'temporarily_unavailable', error_description: 'later' });
  t.is((relayed.cause as Error).message, 'not conform', 'the non-conform answer stays the cause');
  const bare = await toEndpointError(notConform(json(500, '{"error":"server_error","error_description":42}')));
  t.like(bare, { error: 'server_error', error_description: undefined });
  const charset = await toEndpointError(notConform(json(502, '{"error":"x"}', 'Application/JSON; charset=utf-8')));
  t.like(charset, { error: 'x' });

  // Not an OAuth error: a D6 fault, named by what came back.
  const untyped = new Response('{"error":"x"}', { status: 500 });
  untyped.headers.delete('content-type');
  for (const [response, description] of [
    [json(302, '{"error":"x"}'), 'HTTP 302, application/json'],
    [json(500, '{"error":""}'), 'HTTP 500, application/json'],
    [json(500, '{"error":7}'), 'HTTP 500, application/json'],
    [json(500, 'not json'), 'HTTP 500, application/json'],
    [json(500, '{"error":"x"}', 'text/plain'), 'HTTP 500, text/plain'],
    [json(500, '{"error":"x"}', 'text/plain; note=application/json'), 'HTTP 500, text/plain; note=application/json'],
    [untyped, 'HTTP 500, no content type'],
  ] as const) {
    const err = await toEndpointError(notConform(response));
    t.true(err instanceof TemporarilyUnavailable, description);
    t.is(
      err.error_description,
      `the authorization server answered ${description} without an OAuth error; try again shortly`,
    );
  }
  // An answer whose body was already read cannot be relayed.
  const used = json(500, '{"error":"x"}');
  await used.text();
  t.true((await toEndpointError(notConform(used))) instanceof TemporarilyUnavailable);
});

test('the discovery is made once and shared by every call', async (t) => {
  const w = await world(t);
  const first = await w.client.configuration();
  await w.client.metadata();
  t.is(await w.client.configuration(), first);
});
