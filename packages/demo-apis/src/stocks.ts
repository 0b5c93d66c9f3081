/**
 * The Stocks API: `stocks:read` to look, `stocks:buy` to buy. The TMI-BFF draft's own example asks
 * for `scope=buy` on a stocks resource.
 */
import Router from '@koa/router';
import { type AccessTokenClaims, requireAccessToken, requireScope } from '@tmi-bff/resource-server';
import type { Context } from 'koa';

const QUOTES = [
  { symbol: 'ACME', price: 123.45 },
  { symbol: 'GLOBX', price: 42.1 },
  { symbol: 'INIT', price: 7.77 },
];

async function readJson(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > 4096) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function stocksRoutes(issuer: string, audience: string): Router {
  const router = new Router({ prefix: '/stocks' });
  const orders = new Map<string, Array<{ symbol: string; quantity: number }>>();
  router.use(requireAccessToken({ issuer, audience }));

  router.get('stocks.quotes', '/quotes', requireScope('stocks:read'), async function listQuotes(ctx) {
    ctx.body = { quotes: QUOTES };
  });

  router.get('stocks.portfolio', '/portfolio', requireScope('stocks:read'), async function showPortfolio(ctx) {
    const { sub } = ctx.state.accessToken as AccessTokenClaims;
    ctx.body = { owner: sub, orders: orders.get(sub) ?? [] };
  });

  router.post('stocks.orders', '/orders', requireScope('stocks:buy'), async function placeOrder(ctx) {
    const body = (await readJson(ctx)) as { symbol?: unknown; quantity?: unknown } | undefined;
    const quantity = Number(body?.quantity);
    if (
      !QUOTES.some((q) => q.symbol === body?.symbol) ||
      !Number.isInteger(quantity) ||
      quantity < 1 ||
      quantity > 1000
    ) {
      ctx.status = 400;
      ctx.body = {
        error: 'invalid_order',
        error_description: 'send {"symbol": one of the quoted symbols, "quantity": 1…1000}',
      };
      return;
    }
    const { sub } = ctx.state.accessToken as AccessTokenClaims;
    const order = { symbol: String(body?.symbol), quantity };
    orders.set(sub, [...(orders.get(sub) ?? []), order]);
    ctx.status = 201;
    ctx.body = { order, owner: sub };
  });
  return router;
}
