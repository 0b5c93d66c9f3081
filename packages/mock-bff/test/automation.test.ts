/**
 * The test automation API as a frontend project uses it: only the package's public exports, the
 * real mock AS, backend and demo APIs on ephemeral loopback ports, and sign-in through the real
 * authorization code flow.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignInError, startMockBff, WELL_KNOWN } from '@tmi-bff/mock-bff';
import test from 'ava';
import { callBff, started } from './_setup.js';

/** The claims of a JWT, unverified (the demo APIs verify; the test only reads who it is for). */
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

const portOf = (url: string) => Number(new URL(url).port);

test("signIn('alice') then bff-token with the CSRF header and her cookie answers an access token for alice", async (t) => {
  const bff = await started(t);
  t.regex(bff.url, /^http:\/\/localhost:\d+$/);
  const alice = await bff.signIn('alice');
  const { res, body } = await callBff(bff, WELL_KNOWN.bffToken, alice.cookieHeader);
  t.is(res.status, 200);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope']);
  const claims = claimsOf(String(body.access_token));
  t.is(claims.sub, 'alice');
  t.is(claims.iss, bff.issuer);
  t.is(claims.aud, `${bff.apiUrl}/stocks`);
});

test('the session cookies come in the browser-context shape: host-only, HttpOnly, SameSite=Strict, expiring with the session', async (t) => {
  const bff = await started(t);
  const { cookies, cookieHeader } = await bff.signIn('alice');
  t.deepEqual(cookies.map((c) => c.name).sort(), ['bff-session', 'bff-session.sig']);
  const now = Date.now() / 1000;
  for (const cookie of cookies) {
    t.like(cookie, { domain: 'localhost', path: '/', httpOnly: true, secure: false, sameSite: 'Strict' });
    // The reference backend's session lasts 8 hours from sign-in.
    t.true(Math.abs(cookie.expires - (now + 8 * 3600)) < 60, `${cookie.name} expires ${cookie.expires}`);
  }
  // The login transaction's cookie was cleared by the callback: only the session is left.
  t.is(cookieHeader, cookies.map((c) => `${c.name}=${c.value}`).join('; '));
});

test('signIn({ username, password }) signs bob in through the password form, and bff-sessioninfo says bob', async (t) => {
  const bff = await started(t);
  const bob = await bff.signIn({ username: 'bob', password: 'bob' });
  const { res, body } = await callBff(bff, WELL_KNOWN.bffSessionInfo, bob.cookieHeader);
  t.is(res.status, 200);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.like(body, { sub: 'bob', name: 'Bob Brown', iss: bff.issuer });
  t.false('access_token' in body || 'refresh_token' in body);
});

test('a wrong password fails with a SignInError that says what the login page said', async (t) => {
  const bff = await started(t);
  const err = await t.throwsAsync(bff.signIn({ username: 'bob', password: 'alice' }), { instanceOf: SignInError });
  t.is(err?.status, 401);
  t.regex(
    err?.message ?? '',
    /^sign-in at the AS failed: \/interaction\/[^/]+\/login answered 401: Wrong username or password/,
  );
});

test('an unknown persona fails with a SignInError naming it', async (t) => {
  const bff = await started(t);
  const err = await t.throwsAsync(bff.signIn('mallory'), { instanceOf: SignInError });
  t.is(err?.status, 400);
  t.regex(err?.message ?? '', /answered 400: There is no persona "mallory"\.$/);
});

test('signIn() with neither a persona nor a username and password is a coded TypeError', async (t) => {
  const bff = await started(t);
  const err = await t.throwsAsync(bff.signIn({ username: 'bob' } as never), { instanceOf: TypeError });
  t.is((err as NodeJS.ErrnoException).code, 'ERR_INVALID_ARG_TYPE');
});

test('stop() closes every port: the app, the AS and the APIs refuse connections afterwards', async (t) => {
  const bff = await startMockBff();
  const ports = [bff.url, bff.issuer, bff.apiUrl].map(portOf);
  await bff.signIn('alice');
  t.deepEqual(await Promise.all(ports.map(tryConnect)), ['connected', 'connected', 'connected']);
  await bff.stop();
  t.deepEqual(await Promise.all(ports.map(tryConnect)), ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
});

test('stop() leaves no server, socket or timer behind: a process that started and stopped a stack exits by itself', async (t) => {
  // A child process signs in, stops the stack, and prints; then it must end with nothing left to wait for.
  const script = [
    "import { startMockBff } from '@tmi-bff/mock-bff';",
    'const bff = await startMockBff();',
    "await bff.signIn('alice');",
    'await bff.stop();',
    "console.log('stopped');",
  ].join('\n');
  const child = spawn(
    process.execPath,
    ['--import=tsx', '--conditions=development', '--no-warnings', '--input-type=module', '-e', script],
    { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  t.is(signal, null, `still alive after 30 s; output: ${out}`);
  t.is(code, 0, out);
  t.regex(out, /^stopped$/m);
});

test('two stacks side by side on ephemeral ports do not share ports, sessions or users', async (t) => {
  const [one, two] = await Promise.all([started(t), started(t)]);
  const ports = new Set([one, two].flatMap((b) => [b.url, b.issuer, b.apiUrl].map(portOf)));
  t.is(ports.size, 6);
  const [alice, bob] = await Promise.all([one.signIn('alice'), two.signIn('bob')]);
  t.like((await callBff(one, WELL_KNOWN.bffSessionInfo, alice.cookieHeader)).body, { sub: 'alice' });
  t.like((await callBff(two, WELL_KNOWN.bffSessionInfo, bob.cookieHeader)).body, { sub: 'bob' });
  // Alice's cookie means nothing to the other stack: its store and cookie keys are its own.
  const elsewhere = await callBff(two, WELL_KNOWN.bffToken, alice.cookieHeader);
  t.is(elsewhere.res.status, 400);
  t.is(elsewhere.body.error, 'invalid_session');
  // Stopping one leaves the other working.
  await two.stop();
  const still = await callBff(one, WELL_KNOWN.bffToken, alice.cookieHeader);
  t.is(still.res.status, 200);
  t.is(claimsOf(String(still.body.access_token)).sub, 'alice');
});

test('options are validated before anything listens: unknown keys and wrong types are coded TypeErrors naming the option', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ colour: 'red' }, 'ERR_INVALID_ARG_VALUE', /unknown option "colour"/],
    [{ port: '3000' }, 'ERR_INVALID_ARG_TYPE', /options\.port must be a number/],
    [{ asPort: 70_000 }, 'ERR_INVALID_ARG_VALUE', /options\.asPort must be an integer from 0 to 65535/],
    [{ frontend: 'ftp://localhost:5173' }, 'ERR_INVALID_ARG_VALUE', /options\.frontend must be an http\(s\) URL/],
    [{ static: 42 }, 'ERR_INVALID_ARG_TYPE', /options\.static must be a folder path/],
    [{ frontend: 'http://localhost:5173', static: './dist' }, 'ERR_INVALID_ARG_VALUE', /exclude each other/],
    [{ seed: 7 }, 'ERR_INVALID_ARG_TYPE', /options\.seed must be/],
    [{ log: 'console' }, 'ERR_INVALID_ARG_TYPE', /options\.log must be a function/],
  ];
  for (const [options, code, message] of cases) {
    const err = await t.throwsAsync(startMockBff(options as never), { instanceOf: TypeError, message });
    t.is((err as NodeJS.ErrnoException).code, code, JSON.stringify(options));
  }
});
