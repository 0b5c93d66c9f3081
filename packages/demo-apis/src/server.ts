/** `npm run dev`: the demo APIs on loopback. The only file that reads the environment. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { DEFAULT_ADDRESSES, loadSeed, SEED_FILE } from '@tmi-bff/mock-as/seed';
import { createDemoApis } from './app.js';
import { identifiers } from './config.js';

const env = process.env;
const apiOrigin = (env.API_ORIGIN || DEFAULT_ADDRESSES.API_ORIGIN).replace(/\/$/, '');
const issuer = (env.MOCK_AS_ISSUER || DEFAULT_ADDRESSES.ISSUER).replace(/\/$/, '');
const appOrigin = (env.BFF_ORIGIN || DEFAULT_ADDRESSES.BFF_ORIGIN).replace(/\/$/, '');

try {
  const seed = await loadSeed(env.MOCK_AS_SEED || SEED_FILE, {
    ISSUER: issuer,
    BFF_ORIGIN: appOrigin,
    API_ORIGIN: apiOrigin,
  });
  const client = (id: string) => {
    const c = seed.clients.find((x) => x.client_id === id);
    if (!c?.client_secret) throw new Error(`the seed has no confidential client "${id}"`);
    return { id, secret: c.client_secret };
  };
  // The resource identifiers are the seed's: each API must be one of its resources.
  const known = new Set(seed.resources.map((r) => r.identifier));
  for (const id of Object.values(identifiers(apiOrigin))) {
    if (!known.has(id))
      throw new Error(`the seed has no resource "${id}": the demo APIs serve /stocks, /a, /b and /c under API_ORIGIN`);
  }
  const app = createDemoApis({
    issuer,
    apiOrigin,
    appOrigin,
    clients: { a: client('service-a'), b: client('service-b') },
  });
  const url = new URL(apiOrigin);
  const server = createServer(app.callback());
  server.listen(Number(url.port || 80), env.API_HOST || '127.0.0.1');
  await once(server, 'listening');
  console.log(`demo-apis ready at ${apiOrigin} (/stocks, /a, /b, /c); AS ${issuer}; CORS for ${appOrigin}`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  console.error(
    `demo-apis: ${e.message}${e.code === 'EADDRINUSE' ? ': another process holds the port. Stop it, or set API_ORIGIN.' : ''}`,
  );
  process.exit(1);
}
