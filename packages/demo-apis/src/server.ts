/** `npm run dev`: the demo APIs on loopback. The only file that reads the environment. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { DEFAULT_ADDRESSES, loadSeed, SEED_FILE } from '@tmi-bff/mock-as/seed';
import { createDemoApis } from './app.js';

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
