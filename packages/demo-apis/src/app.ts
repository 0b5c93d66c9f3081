/**
 * The demo resource servers in one Koa app: the Stocks API and services A, B, C, one path prefix
 * each. CORS lets the app's own origin call them with a bearer token, and no other origin.
 */
import cors from '@koa/cors';
import Koa from 'koa';
import { chainRoutes } from './chain.js';
import { type DemoApisConfig, identifiers } from './config.js';
import { stocksRoutes } from './stocks.js';

export function createDemoApis(config: DemoApisConfig): Koa {
  const app = new Koa();
  app.use(
    cors({
      // Only the app's origin gets CORS headers; any other origin gets none, so browsers refuse it.
      origin: (ctx) => (ctx.get('origin') === config.appOrigin ? config.appOrigin : ''),
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['Authorization', 'Content-Type'],
      exposeHeaders: ['WWW-Authenticate'],
      maxAge: 600,
    }),
  );
  const stocks = stocksRoutes(config.issuer, identifiers(config.apiOrigin).stocks);
  const chain = chainRoutes(config);
  app.use(stocks.routes()).use(stocks.allowedMethods());
  app.use(chain.routes()).use(chain.allowedMethods());
  return app;
}
