/**
 * A small authorization server for provoking faults the real mock AS will not commit: a token
 * response wider than asked for, or without `scope`; an HTML answer; metadata without a revocation
 * or end-session endpoint; a discovery that fails although the server answered. It signs users in
 * at once (no pages), with a real signed ID token, so the backend's sign-in runs unchanged.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type BackendConfig, createBackend } from '../src/index.js';
import { UserAgent } from './_setup.js';

export interface FakeTokenRequest {
  grant_type: string;
  scope?: string;
  resource: string[];
}

export interface FakeAsOptions {
  /** Answers a refresh; default: a token with the requested scope echoed. */
  refresh?: (request: FakeTokenRequest, res: ServerResponse) => void;
  /** Metadata members to leave out, e.g. `revocation_endpoint`. */
  omit?: string[];
  /** Metadata members to add or replace, e.g. `grant_types_supported`. */
  metadata?: Record<string, unknown>;
  /** Answers discovery by itself instead (status and body). */
  discovery?: (issuer: string, res: ServerResponse) => void;
  /** Serves a userinfo endpoint (advertised in the metadata) that answers these claims. */
  userinfo?: Record<string, unknown>;
  /** More claims in the ID token of the code grant (they replace the fake's own of the same name). */
  idTokenClaims?: Record<string, unknown>;
  /** An issuer identifier ending in `/` (e.g. `https://tenant.example.com/`), used verbatim everywhere. */
  trailingSlash?: boolean;
}

export interface FakeAs {
  issuer: string;
  /** Authorization requests' query parameters, in order. */
  authorizations: URLSearchParams[];
  /** Token endpoint requests, in order. */
  requests: FakeTokenRequest[];
  /** Refresh tokens revoked. */
  revoked: string[];
}

export const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startFakeAs(t: ExecutionContext, options: FakeAsOptions = {}): Promise<FakeAs> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.trailingSlash ? `${base}/` : base;
  const fake: FakeAs = { issuer, authorizations: [], requests: [], revoked: [] };
  const codes = new Map<string, { nonce: string; clientId: string }>(); // code → what /authorize was asked
  let serial = 0;
  const next = (prefix: string) => {
    serial += 1;
    return `${prefix}-${serial}`;
  };

  const metadata = () =>
    Object.fromEntries(
      Object.entries({
        issuer,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        revocation_endpoint: `${base}/revoke`,
        end_session_endpoint: `${base}/end`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        ...(options.userinfo ? { userinfo_endpoint: `${base}/userinfo` } : {}),
        ...options.metadata,
      }).filter(([k]) => !options.omit?.includes(k)),
    );

  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/.well-known/openid-configuration') {
      return options.discovery ? options.discovery(issuer, res) : json(res, 200, metadata());
    }
    if (url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
    if (url.pathname === '/userinfo' && options.userinfo) return json(res, 200, options.userinfo);
    if (url.pathname === '/authorize') {
      fake.authorizations.push(url.searchParams);
      const code = next('code');
      codes.set(code, {
        nonce: url.searchParams.get('nonce') ?? '',
        clientId: url.searchParams.get('client_id') ?? 'bff',
      });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      back.searchParams.set('iss', issuer);
      return res.writeHead(303, { location: back.href }).end();
    }
    const form = await body(req);
    if (url.pathname === '/revoke') {
      fake.revoked.push(form.get('token') ?? '');
      return res.writeHead(200).end();
    }
    if (url.pathname !== '/token') return res.writeHead(404).end();
    const request: FakeTokenRequest = {
      grant_type: form.get('grant_type') ?? '',
      resource: form.getAll('resource'),
      ...(form.get('scope') ? { scope: form.get('scope') ?? '' } : {}),
    };
    fake.requests.push(request);
    if (request.grant_type === 'authorization_code') {
      const now = Math.floor(Date.now() / 1000);
      const asked = codes.get(form.get('code') ?? '');
      const idToken = await new SignJWT({
        nonce: asked?.nonce,
        auth_time: now,
        name: 'Alice',
        ...options.idTokenClaims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setSubject('alice')
        // OIDC Core §2: the ID token's audience is the client the authorization request named.
        .setAudience(asked?.clientId ?? 'bff')
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(privateKey);
      return json(res, 200, {
        access_token: next('at'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: idToken,
        refresh_token: next('rt'),
      });
    }
    if (options.refresh) return options.refresh(request, res);
    return json(res, 200, {
      access_token: next('at'),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: next('rt'),
      ...(request.scope ? { scope: request.scope } : {}),
    });
  });
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });
  return fake;
}

/**
 * The reference backend against a fake AS, on its own loopback port: the user agent, the log lines,
 * and a sign-in that follows the fake's immediate answer to the authorization request.
 */
export async function backendAgainst(t: ExecutionContext, config: Omit<BackendConfig, 'origin'>) {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const logs: string[] = [];
  const backend = await createBackend({ log: (line) => logs.push(line), ...config, origin });
  server.on('request', backend.app.callback());
  t.teardown(async () => {
    server.close();
    server.closeAllConnections();
    await backend.close();
  });
  const user = new UserAgent(origin);
  const signIn = async () => {
    const start = await user.fetch('/auth/login');
    const back = await fetch(new URL(start.headers.get('location') ?? ''), { redirect: 'manual' });
    const callback = new URL(back.headers.get('location') ?? '');
    return user.fetch(callback.pathname + callback.search);
  };
  return { user, logs, signIn, backend };
}
