/**
 * The mock AS for a bench run, on a port chosen by the harness, seeded with the demo world plus what
 * the run needs: the `bff` client may redirect to every backend under test (BENCH_BFF_ORIGINS), and
 * a second confidential client (BENCH_EXPRESS_CLIENT_ID, BENCH_EXPRESS_CLIENT_SECRET) signs users
 * into the express-openid-connect app (BENCH_EXPRESS_ORIGIN). It counts the token requests by grant type, for the harness to ask:
 * `{ count: true }` → `{ counts }`, `{ reset: true }` → `{ counts: {} }`.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_ADDRESSES, parseSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';

const port = Number(process.env.BENCH_AS_PORT);
const issuer = `http://127.0.0.1:${port}`;
const bffOrigins = (process.env.BENCH_BFF_ORIGINS ?? '').split(' ').filter(Boolean);
const expressOrigin = process.env.BENCH_EXPRESS_ORIGIN ?? '';

const raw = JSON.parse(await readFile(SEED_FILE, 'utf8')) as { clients: Array<Record<string, unknown>> };
for (const client of raw.clients) {
  if (client.client_id === 'bff') client.redirect_uris = bffOrigins.map((origin) => `${origin}/auth/callback`);
}
raw.clients.push({
  client_id: process.env.BENCH_EXPRESS_CLIENT_ID,
  client_name: 'express-openid-connect (bench)',
  client_secret: process.env.BENCH_EXPRESS_CLIENT_SECRET,
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: [`${expressOrigin}/callback`],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
});
const seed = parseSeed(raw, { ...DEFAULT_ADDRESSES, ISSUER: issuer, BFF_ORIGIN: bffOrigins[0] ?? '' });

// One line per request (middleware/log-request.ts): `POST /token grant_type=refresh_token client=bff → 200 (3 ms)`.
let counts: Record<string, number> = {};
const as = await startMockAs({
  issuer,
  port,
  seed,
  log(line) {
    const grant = /^POST \S+ grant_type=(\S+)/.exec(line)?.[1];
    if (grant) counts[grant] = (counts[grant] ?? 0) + 1;
  },
});
process.on('message', (message: { count?: boolean; reset?: boolean }) => {
  if (message.reset) counts = {};
  process.send?.({ counts });
});
process.send?.({ ready: issuer });
process.once('SIGTERM', () => void as.close().finally(() => process.exit(0)));
