/** The baseline: a Koa app whose one middleware answers `hello`, and nothing else. */
import { createServer } from 'node:http';
import Koa from 'koa';
import { serveUntilStopped } from './serve.js';

const app = new Koa();
app.use(function hello(ctx) {
  ctx.body = 'hello';
});
await serveUntilStopped(createServer(app.callback()).listen(0, '127.0.0.1'));
