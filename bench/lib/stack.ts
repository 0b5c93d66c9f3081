/**
 * The servers of a run, each in its own process on a loopback port chosen first (the mock AS must
 * know every redirect URI before it starts): the mock AS, the bare Koa baseline, the reference
 * backend on lowdb (with mock mode's knobs, to expire a session's tokens), on Redis, and with the
 * exchange strategy, and the express-openid-connect app. Only the ones a run needs are started.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { backendEnv, DEFAULT_ADDRESSES, loadSeed, SEED_FILE } from '@tmi-bff/mock-as';
import { startRedis } from '@tmi-bff/store/testing';
import { freePort, onStop, type Started, startServer } from './processes.js';
import { signInAt } from './sign-in.js';

/** The express-openid-connect app's client at the mock AS (servers/mock-as.ts registers it). */
const EXPRESS_CLIENT = { id: 'express-oidc', secret: 'express-oidc-bench-secret' };

export interface Needs {
  baseline: boolean;
  lowdb: boolean;
  redis: boolean;
  exchange: boolean;
  express: boolean;
}

export interface Stack {
  issuer: string;
  /** The backend's settings for the demo world (BFF_CLIENT_ID, BFF_CLIENT_SECRET, BFF_SCOPE…). */
  world: Record<string, string>;
  /** The resource every bff-token request here asks for. */
  resource: string;
  /** bff-token for `resource` with scope stocks:read. */
  tokenPath: string;
  /** The lowdb backend's origin, a redirect URI of the `bff` client even when it is not started. */
  lowdbOrigin: string;
  as: Started;
  bare?: Started | undefined;
  lowdb?: Started | undefined;
  redis?: Started | undefined;
  exchange?: Started | undefined;
  express?: Started | undefined;
  /** A backend's signed-in session: its cookie and the CSRF header. */
  headersOf(backend: Started): Record<string, string>;
}

export async function startStack(needs: Needs, tmp: string): Promise<Stack> {
  const [asPort, lowdbPort, redisPort, exchangePort, expressPort] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => freePort()),
  );
  const origin = (port: number | undefined) => `http://127.0.0.1:${port}`;
  const log = (name: string) => join(tmp, `${name}.log`);
  const issuer = origin(asPort);
  // The demo world's settings, as `npm run dev` passes them to the backend.
  const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, ISSUER: issuer });
  const { BFF_SPA_SETTINGS: _shownBySpaOnly, ...world } = backendEnv(seed, issuer);
  const resource = `${DEFAULT_ADDRESSES.API_ORIGIN}/stocks`;
  const tokenPath = `/.well-known/bff-token?resource=${encodeURIComponent(resource)}&scope=stocks%3Aread`;

  const redis = needs.redis ? await startRedis() : undefined;
  if (redis) onStop(() => redis.remove());
  const express = { BENCH_EXPRESS_CLIENT_ID: EXPRESS_CLIENT.id, BENCH_EXPRESS_CLIENT_SECRET: EXPRESS_CLIENT.secret };
  const as = await startServer('mock AS', 'servers/mock-as.ts', {
    logFile: log('mock-as'),
    env: {
      BENCH_AS_PORT: String(asPort),
      BENCH_BFF_ORIGINS: [lowdbPort, redisPort, exchangePort].map(origin).join(' '),
      BENCH_EXPRESS_ORIGIN: origin(expressPort),
      ...express,
    },
  });

  /** The backend as `npm start` runs it: the demo world's settings, a data folder of its own, `extra`. */
  const backend = (name: string, port: number | undefined, extra: Record<string, string>) =>
    startServer(`backend (${name})`, 'servers/backend.ts', {
      logFile: log(`backend-${name}`),
      env: { ...world, BFF_ORIGIN: origin(port), BFF_SPA_DIR: 'none', BFF_DATA_DIR: join(tmp, name), ...extra },
    });
  const servers = await Promise.all([
    needs.baseline ? startServer('bare Koa', 'servers/bare-koa.ts', { logFile: log('bare-koa') }) : undefined,
    needs.lowdb ? backend('lowdb', lowdbPort, { BFF_MOCK: '1' }) : undefined,
    redis
      ? backend('redis', redisPort, { BFF_STORE: redis.url, BFF_DATA_KEY: randomBytes(32).toString('base64url') })
      : undefined,
    needs.exchange ? backend('exchange', exchangePort, { BFF_DOWNSCOPING: 'exchange' }) : undefined,
    needs.express
      ? startServer('express-openid-connect', 'servers/express-oidc.ts', {
          logFile: log('express-oidc'),
          env: { BENCH_EXPRESS_PORT: String(expressPort), BENCH_ISSUER: issuer, ...express },
        })
      : undefined,
  ]);
  const [bare, lowdb, onRedis, exchange, expressApp] = servers;

  // One signed-in session per backend, its first token fetched: the next is a cache hit.
  const sessions = new Map<Started, Record<string, string>>();
  for (const b of [lowdb, onRedis, exchange]) {
    if (!b) continue;
    const headers = { cookie: await signInAt(b.url, '/auth/login'), 'TMI-BFF-CSRF': '1' };
    const primed = await fetch(`${b.url}${tokenPath}`, { headers });
    if (primed.status !== 200)
      throw new Error(`${b.name}: bff-token answered ${primed.status}: ${await primed.text()}`);
    sessions.set(b, headers);
  }
  return {
    issuer,
    world,
    resource,
    tokenPath,
    lowdbOrigin: origin(lowdbPort),
    as,
    bare,
    lowdb,
    redis: onRedis,
    exchange,
    express: expressApp,
    headersOf: (b) => sessions.get(b) ?? {},
  };
}
