/**
 * Who may call the development control routes (faults.ts, control-sign-in.ts): a client registered
 * at this AS, with its own client_id and client_secret in HTTP Basic (RFC 6749 §2.3.1), as at the
 * token endpoint. That needs no new secret shared between processes (a backend already holds its
 * client credentials) and keeps the routes closed to anyone who is not a configured client of this
 * AS. A client registered for private_key_jwt has no secret, so it cannot call them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const formDecode = (part: string) => {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};

/** The client_id of the registered client that authenticated `ctx` with HTTP Basic, if any. */
export function controlCaller(provider: Provider) {
  return async function authenticatedClientId(ctx: Context): Promise<string | undefined> {
    const [scheme, value = ''] = ctx.get('authorization').split(' ');
    if (scheme?.toLowerCase() !== 'basic') return undefined;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded.
    const id = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (id === undefined || secret === undefined) return undefined;
    const client = await provider.Client.find(id).catch(() => undefined);
    const registered = typeof client?.clientSecret === 'string' && sameText(client.clientSecret, secret);
    return registered ? id : undefined;
  };
}

/** Writes a JSON answer that no cache keeps. */
export function answer(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

/** RFC 9110 §11.6.1: the 401 names the scheme to use; the description says with which credentials. */
export function refuseCaller(ctx: Context): void {
  ctx.set('WWW-Authenticate', 'Basic realm="mock-as control"');
  answer(ctx, 401, {
    error: 'invalid_client',
    error_description:
      'the control routes take HTTP Basic authentication with the client_id and client_secret of a client registered at this AS with a secret',
  });
}
