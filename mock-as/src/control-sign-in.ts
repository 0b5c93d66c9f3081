/**
 * A server-side sign-in, for development only: a client hands the AS one of its own authorization
 * requests and names a persona; the AS runs its own login and consent pages for that persona, over
 * HTTP with a fresh cookie jar (never a browser's AS session), and answers with the redirect it
 * ends in, the client's redirect_uri with `code` and `state`. The mock BFF's "switch persona" knob
 * uses it to sign in without a browser.
 *
 *   POST /_mock/sign-in
 *   Authorization: Basic <client_id:client_secret>
 *   Content-Type: application/json
 *
 *   {"authorization_url":"http://localhost:4000/auth?client_id=bff&…&state=…","persona":"bob"}
 *
 *   200 {"location":"http://localhost:3000/auth/callback?code=…&state=…&iss=…"}
 *
 * Mounted with the fault routes (`faults: { enabled: true }`, `MOCK_AS_FAULTS=1`) and authenticated as
 * they are (control-auth.ts). A request this route cannot serve is 400 invalid_request, saying why.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Accounts } from './accounts.js';
import { answer, controlCaller, refuseCaller } from './control-auth.js';
import { pageMessage, SignInError, signIn } from './testing/index.js';

export const CONTROL_SIGN_IN_PATH = '/_mock/sign-in';

const KEYS = new Set(['authorization_url', 'persona']);

/** A request this route cannot serve: 400 invalid_request with this message. */
class BadRequest extends Error {}

/** RFC 6749 §5.2: error_description is printable ASCII without " and \. */
const oauthText = (text: string) => text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');

interface SignInRequest {
  authorization_url: string;
  persona: string;
}

function parseRequest(body: unknown): SignInRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object: { "authorization_url": "...", "persona": "..." }');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new BadRequest(`unknown member: ${unknown.join(', ')}`);
  const { authorization_url, persona } = fields;
  if (typeof authorization_url !== 'string') throw new BadRequest('authorization_url must be a string');
  if (typeof persona !== 'string') throw new BadRequest('persona must be a string: a username of the seed');
  return { authorization_url, persona };
}

export interface ControlSignInInput {
  provider: Provider;
  issuer: string;
  accounts: Accounts;
}

export function controlSignIn({ provider, issuer, accounts }: ControlSignInInput) {
  const authenticate = controlCaller(provider);
  const authorizationPath = provider.pathFor('authorization');
  // Authorization URLs carry PKCE, state, nonce, resources and claims: a few kilobytes at most.
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', encoding: 'utf-8' });

  /** The URL when it is an authorization request of `clientId` at this AS. */
  function checkAuthorizationUrl(value: string, clientId: string, ctx: Context): URL {
    const endpoint = new URL(authorizationPath, issuer).href;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    // The issuer's origin, or the one the caller reached this AS at (discovery answers with that).
    const ours = url && [new URL(issuer).origin, ctx.origin].includes(url.origin) && url.pathname === authorizationPath;
    if (!url || !ours || url.username || url.password || url.hash) {
      throw new BadRequest(`authorization_url must be an authorization request at this AS's endpoint, ${endpoint}`);
    }
    const requested = url.searchParams.getAll('client_id');
    if (requested.length !== 1 || requested[0] !== clientId) {
      throw new BadRequest(
        `authorization_url must be a request of the authenticated client ${clientId}, not of ${requested.join(', ') || 'no client'}`,
      );
    }
    return url;
  }

  return async function signInPersona(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== CONTROL_SIGN_IN_PATH) return next();
    const clientId = await authenticate(ctx);
    if (!clientId) return refuseCaller(ctx);
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      return answer(ctx, 405, { error: 'invalid_request', error_description: 'use POST' });
    }
    let target = issuer;
    try {
      if (!ctx.is('application/json')) throw new BadRequest('the body must be application/json');
      await json(ctx, async () => {});
      const request = parseRequest(ctx.request.body);
      const url = checkAuthorizationUrl(request.authorization_url, clientId, ctx);
      target = url.origin;
      const user = accounts.get(request.persona);
      if (!user) {
        const known = accounts.list().map((u) => u.username);
        throw new BadRequest(`unknown persona "${request.persona}" (known: ${known.join(', ')})`);
      }
      // A fresh cookie jar: this sign-in never rides on anyone's AS session.
      const location = await signIn(url, { username: user.username, password: user.password });
      answer(ctx, 200, { location: location.href });
    } catch (err) {
      if (err instanceof SignInError) {
        const page = pageMessage(err.body);
        const why = `the authorization request did not reach the client's redirect_uri: ${err.message}${page ? `: ${page}` : ''}`;
        return answer(ctx, 400, { error: 'invalid_request', error_description: oauthText(why) });
      }
      // fetch's own failure: this AS could not reach its authorization endpoint at that address.
      if (err instanceof TypeError && err.cause instanceof Error) {
        const why = `this AS could not reach its authorization endpoint at ${target}: ${err.cause.message}`;
        return answer(ctx, 502, { error: 'server_error', error_description: oauthText(why) });
      }
      const e = err as { status?: number; message: string };
      if (!(err instanceof BadRequest) && !(e.status && e.status < 500)) throw err;
      answer(ctx, 400, { error: 'invalid_request', error_description: oauthText(e.message) });
    }
  };
}
