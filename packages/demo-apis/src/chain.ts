/**
 * Services A → B → C (the seed scenario): a service that received a token with scopes [a b c] does
 * not pass it on. It exchanges it at the AS (RFC 8693, as its own confidential client) for a token
 * whose audience is the next service and whose scopes are fewer: A → B with [b c], B → C with [c].
 * Each hop can do less than the one before it, and each token names the services that acted
 * (`act`, RFC 8693 §4.1). A's answer shows every hop's token, for display.
 *
 * Walkthrough: docs/walkthrough/05-token-chain.md.
 */
import Router from '@koa/router';
import { AuthorizationServerError, clientSecretBasic, OpenIdClient } from '@tmi-bff/koa';
import { type AccessTokenClaims, InsufficientScope, requireAccessToken, requireScope } from '@tmi-bff/resource-server';
import type { Context } from 'koa';
import { type ClientCredentials, type DemoApisConfig, identifiers } from './config.js';

/** What each hop shows of the token it received (for display; clients never inspect tokens). */
export interface Hop {
  service: 'A' | 'B' | 'C';
  aud: unknown;
  scope: string | undefined;
  sub: string;
  client_id: string;
  act: unknown;
  exp: number | undefined;
}

const hopOf = (service: Hop['service'], claims: AccessTokenClaims): Hop => ({
  service,
  aud: claims.aud,
  scope: claims.scope,
  sub: claims.sub,
  client_id: claims.client_id,
  act: claims.act,
  exp: claims.exp,
});

interface Downstream {
  service: Hop['service'];
  client: ClientCredentials;
  resource: string;
  scope: string;
  path: string;
}

export function chainRoutes(config: DemoApisConfig): Router {
  const ids = identifiers(config.apiOrigin);
  const self = config.selfUrl ?? config.apiOrigin;
  const router = new Router();
  const clients = new Map<string, OpenIdClient>();

  /** Each service is its own confidential client of the AS (client_secret_basic). */
  function clientOf(credentials: ClientCredentials): OpenIdClient {
    let found = clients.get(credentials.id);
    if (!found) {
      found = new OpenIdClient({
        issuer: config.issuer,
        clientId: credentials.id,
        clientAuth: clientSecretBasic(credentials.secret),
        allowInsecureRequests: config.allowInsecureRequests ?? config.issuer.startsWith('http:'),
      });
      clients.set(credentials.id, found);
    }
    return found;
  }

  // #region walkthrough:chain-hop
  /** Exchanges the incoming token for the next hop's, then calls the next hop with it. */
  async function callNext(ctx: Context, from: Hop['service'], next: Downstream): Promise<void> {
    let token: string;
    try {
      // RFC 8693 §2.1: the incoming token is the subject; the next hop is the resource.
      ({ access_token: token } = await clientOf(next.client).exchange(String(ctx.state.bearer), {
        resource: next.resource,
        scope: next.scope,
      }));
    } catch (err) {
      if (err instanceof AuthorizationServerError) {
        // The AS refused: the caller's token does not carry what the next hop needs.
        const why = `service ${from} could not get a token for ${next.service}: the AS answered ${err.error}${
          err.error_description ? ` (${err.error_description})` : ''
        }`;
        throw new InsufficientScope(why, next.scope);
      }
      ctx.status = 502;
      ctx.body = { error: 'upstream_unavailable', error_description: `service ${from} could not reach the AS` };
      return;
    }
    const res = await fetch(`${self}${next.path}`, { headers: { authorization: `Bearer ${token}` } }).catch(
      () => undefined,
    );
    const body = (await res?.json().catch(() => undefined)) as { hops?: Hop[] } | undefined;
    if (!res?.ok || !body?.hops) {
      ctx.status = 502;
      ctx.body = {
        error: 'upstream_error',
        error_description: `service ${next.service} answered ${res?.status ?? 'nothing'}`,
        upstream: body,
      };
      return;
    }
    ctx.body = { hops: [hopOf(from, ctx.state.accessToken as AccessTokenClaims), ...body.hops] };
  }
  // #endregion

  router.get(
    'chain.a',
    '/a/chain',
    requireAccessToken({ issuer: config.issuer, audience: ids.a }),
    requireScope('a'),
    async function serviceA(ctx) {
      // A keeps [a] for itself; B gets [b c].
      await callNext(ctx, 'A', {
        service: 'B',
        client: config.clients.a,
        resource: ids.b,
        scope: 'b c',
        path: '/b/chain',
      });
    },
  );
  router.get(
    'chain.b',
    '/b/chain',
    requireAccessToken({ issuer: config.issuer, audience: ids.b }),
    requireScope('b'),
    async function serviceB(ctx) {
      await callNext(ctx, 'B', {
        service: 'C',
        client: config.clients.b,
        resource: ids.c,
        scope: 'c',
        path: '/c/chain',
      });
    },
  );
  router.get(
    'chain.c',
    '/c/chain',
    requireAccessToken({ issuer: config.issuer, audience: ids.c }),
    requireScope('c'),
    async function serviceC(ctx) {
      ctx.body = { hops: [hopOf('C', ctx.state.accessToken as AccessTokenClaims)] };
    },
  );
  return router;
}
