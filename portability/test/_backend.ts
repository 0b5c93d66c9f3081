/**
 * The reference backend as a user would run it against some authorization server: `createBackend`
 * with a configuration written for that AS, on an ephemeral loopback port. Its log lines are kept
 * for assertions, and its token cache has a clock the test can move forward.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSRF_HEADER } from '@tmi-bff/koa';
import { type Backend, type BackendConfig, createBackend } from '@tmi-bff/reference-backend';
import type { ExecutionContext } from 'ava';
import { Browser } from './_browser.js';

/** A loopback HTTP server whose origin is known before the app that answers on it is built. */
export async function listenOnLoopback(t: ExecutionContext): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What differs from one AS to the next: who the backend is there, and what sign-in asks for. */
export type AsSettings = Pick<BackendConfig, 'issuer' | 'client' | 'login' | 'idTokenHint'>;

export interface RunningBackend {
  backend: Backend;
  origin: string;
  /** Every line the backend logged, in order. */
  logs: string[];
  /** Moves the backend's clock (token cache and store) forward. */
  advance(ms: number): void;
  /** A new browser, on this backend's origin. */
  user(): User;
}

export async function startBackend(
  t: ExecutionContext,
  listening: { server: Server; origin: string },
  settings: AsSettings,
): Promise<RunningBackend> {
  const logs: string[] = [];
  let offset = 0;
  const backend = await createBackend({
    origin: listening.origin,
    ...settings,
    tokens: {
      strategy: 'refresh',
      expiryMarginSeconds: 30,
      asTimeoutMs: 5000,
      defaultResource: settings.login.resources[0],
    },
    sessionMaxAgeMs: 8 * 3600 * 1000,
    log: (line) => logs.push(line),
    now: () => Date.now() + offset,
  });
  listening.server.on('request', backend.app.callback());
  t.teardown(() => backend.close());
  return {
    backend,
    origin: listening.origin,
    logs,
    advance: (ms) => {
      offset += ms;
    },
    user: () => new User(listening.origin),
  };
}

export interface BffResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A user's browser on the app: sign-in and sign-out navigations, and the SDK's calls to the endpoints. */
export class User extends Browser {
  constructor(readonly origin: string) {
    super();
  }

  /** GET /auth/login: the backend's 303 to the AS's authorization endpoint. */
  async startSignIn(): Promise<URL> {
    const res = await this.fetch(new URL('/auth/login', this.origin));
    const location = res.headers.get('location');
    if (res.status !== 303 || !location) throw new Error(`/auth/login answered ${res.status}: ${await res.text()}`);
    return new URL(location, this.origin);
  }

  /** The AS's redirect back to the callback, followed: the backend's answer. */
  callback(redirect: URL): Promise<Response> {
    if (redirect.origin !== this.origin) throw new Error(`the AS sent the browser to ${redirect.href}`);
    return this.fetch(redirect);
  }

  /** POST /auth/logout from the app's page (the Origin a browser sends with a form). */
  signOut(): Promise<Response> {
    return this.fetch(new URL('/auth/logout', this.origin), { method: 'POST', headers: { origin: this.origin } });
  }

  /** A call to a BFF endpoint as the SDK makes it: same origin, with the CSRF header. */
  async bff(path: string): Promise<BffResponse> {
    const res = await this.fetch(new URL(path, this.origin), { headers: { [CSRF_HEADER]: '1' } });
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { unparsed: text };
    }
    return { status: res.status, headers: res.headers, body };
  }

  token(params: Record<string, string> = {}): Promise<BffResponse> {
    const query = new URLSearchParams(params);
    return this.bff(`/.well-known/bff-token${query.size ? `?${query}` : ''}`);
  }

  sessionInfo(): Promise<BffResponse> {
    return this.bff('/.well-known/bff-sessioninfo');
  }
}
