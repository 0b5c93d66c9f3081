/**
 * The backend's log (log.ts): BFF_LOG_LEVEL picks the least severe line; a served token logs
 * nothing at the default level; the default sink writes asynchronously, several lines at once.
 */
import { setImmediate as turn } from 'node:timers/promises';
import test from 'ava';
import { configFromEnv } from '../src/index.js';
import { stdoutSink } from '../src/log.js';
import { STOCKS, startStack } from './_setup.js';

const REQUIRED = { BFF_ISSUER: 'https://as.example', BFF_CLIENT_ID: 'my-bff', BFF_CLIENT_SECRET: 'my-secret' };
const from = (env: Record<string, string>) =>
  configFromEnv({ BFF_DATA_DIR: 'memory', ...REQUIRED, ...env }, '/repo/rb');

test('BFF_LOG_LEVEL: unset is info; error, warn, info, debug are accepted; anything else or empty is refused naming the levels', (t) => {
  t.is(from({}).config.logLevel ?? 'info', 'info');
  for (const level of ['error', 'warn', 'info', 'debug'] as const)
    t.is(from({ BFF_LOG_LEVEL: level }).config.logLevel, level);
  t.throws(() => from({ BFF_LOG_LEVEL: 'verbose' }), {
    message: 'BFF_LOG_LEVEL must be one of error, warn, info, debug, got "verbose"',
  });
  t.throws(() => from({ BFF_LOG_LEVEL: '' }), { message: /^BFF_LOG_LEVEL is set but empty/ });
});

for (const [level, logged] of [
  ['info', false],
  ['debug', true],
] as const) {
  test(`At BFF_LOG_LEVEL=${level}, a served token ${logged ? 'logs a bff.token.success line' : 'logs nothing'}`, async (t) => {
    const lines: string[] = [];
    const stack = await startStack(t, { backend: { logLevel: level, log: (line) => lines.push(line) } });
    const user = stack.browser();
    await user.signIn({ persona: 'alice' });
    t.is((await user.token({ resource: STOCKS, scope: 'stocks:read' })).status, 200);
    const from = lines.length;
    const hit = await user.token({ resource: STOCKS, scope: 'stocks:read' });
    t.is(hit.status, 200);
    t.is(hit.headers.get('TMI-BFF-Token-Source'), 'cache');
    const after = lines.slice(from);
    if (logged)
      t.true(
        after.some((l) => l.startsWith('bff.token.success {"source":"cache"')),
        after.join('\n'),
      );
    else t.deepEqual(after, []);
  });
}

test('The default sink writes nothing during the call, then every buffered line in one write on the next turn', async (t) => {
  const writes: string[] = [];
  const log = stdoutSink((text) => writes.push(text));
  log('one');
  log('two');
  t.deepEqual(writes, []);
  await turn();
  t.deepEqual(writes, ['one\ntwo\n']);
  log('three');
  await turn();
  t.deepEqual(writes, ['one\ntwo\n', 'three\n']);
});
