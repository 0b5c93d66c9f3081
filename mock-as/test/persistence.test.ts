import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { freePort, ready, runServer } from './_process.js';
import { authorize, clientFor, demoSeed, REDIRECT_URI, STOCKS, startAs } from './_setup.js';

async function tempDir(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'mock-as-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('lowdb adapter: a refresh token and the signing keys survive a restart', async (t) => {
  const dataDir = await tempDir(t);
  const port = await freePort();

  const first = await startAs(t, { dataDir, port });
  const tokens = await authorize(await clientFor(first), { persona: 'alice', tokenResource: STOCKS });
  await first.close();

  const file = JSON.parse(await readFile(join(dataDir, 'oidc.json'), 'utf8'));
  t.true(Object.keys(file.rows).some((k) => k.startsWith('RefreshToken:')));
  t.true(Object.keys(file.rows).some((k) => k.startsWith('Grant:')));

  const second = await startAs(t, { dataDir, port });
  const config = await clientFor(second);
  // The access token from before the restart verifies against the restarted AS's JWKS (same key).
  const jwks = createRemoteJWKSet(new URL(`${second.issuer}/jwks`));
  await t.notThrowsAsync(jwtVerify(tokens.access_token, jwks, { issuer: second.issuer, audience: STOCKS }));
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '', { resource: STOCKS });
  t.is(refreshed.scope, 'stocks:read stocks:buy');
});

test('lowdb adapter: after SIGKILL in the middle of a burst of writes the file is valid JSON and the AS starts', async (t) => {
  const dataDir = await tempDir(t);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = { MOCK_AS_ISSUER: issuer, MOCK_AS_DATA_DIR: dataDir, BFF_ORIGIN: 'http://localhost:3000' };

  const p = runServer(env);
  await ready(p);
  // A refresh token issued (and therefore on disk) before the burst.
  const before = await authorize(await clientFor({ issuer }), { persona: 'alice' });

  // The burst: each authorization request stores an Interaction row.
  const config = await clientFor({ issuer });
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const total = 400;
  let answered = 0;
  let killed = false;
  const burst = Array.from({ length: total }, () =>
    fetch(url, { redirect: 'manual' })
      .then((res) => {
        answered += res.status === 303 ? 1 : 0;
        if (answered === 50 && !killed) {
          killed = true;
          p.child.kill('SIGKILL');
        }
      })
      .catch(() => {}),
  );
  await Promise.all(burst);
  await p.exited;
  t.true(killed, 'the server was killed while requests were still in flight');
  t.true(answered < total, `killed mid-burst (${answered} of ${total} answered)`);

  const raw = await readFile(join(dataDir, 'oidc.json'), 'utf8');
  const doc = JSON.parse(raw);
  t.is(doc.version, 1);
  t.true(Object.keys(doc.rows).filter((k) => k.startsWith('Interaction:')).length >= 50);

  const again = await startAs(t, { dataDir, issuer, port, seed: await demoSeed() });
  const refreshed = await oidc.refreshTokenGrant(await clientFor(again), before.refresh_token ?? '', {
    resource: STOCKS,
  });
  t.is(refreshed.scope, 'stocks:read stocks:buy');
});

test('a corrupt data file stops start-up with one line that says what to do', async (t) => {
  const dataDir = await tempDir(t);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dataDir, 'oidc.json'), '{"version":1,"rows":{');
  const p = runServer({ MOCK_AS_ISSUER: `http://127.0.0.1:${await freePort()}`, MOCK_AS_DATA_DIR: dataDir });
  t.is(await p.exited, 1);
  const errors = p.stderr.filter((l) => !l.startsWith('oidc-provider WARNING'));
  t.is(errors.length, 1, errors.join('\n'));
  t.regex(errors[0] ?? '', /^mock-as: .*oidc\.json is not valid JSON .*npm run reset/);
});
