/** The baseline: a Koa app whose one middleware answers `hello`, and nothing else. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

const app = new Koa();
app.use(function hello(ctx) {
  ctx.body = 'hello';
});
const server = createServer(app.callback()).listen(0, '127.0.0.1');
await once(server, 'listening');
process.send?.({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
