/**
 * The login and consent interactions. oidc-provider sends the browser to `/interaction/:uid`; we show
 * the login page (persona picker + password form) or the consent page, then hand the result back
 * with `interactionResult`, which answers with the URL to resume the authorization request.
 *
 * The forms stay under `/interaction/<uid>/…` because oidc-provider scopes its interaction cookie
 * to that path.
 */
import { METHODS } from 'node:http';
import Router from '@koa/router';
import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import type { Accounts } from '../accounts.js';
import type { Seed } from '../seed.js';
import { formBody } from './form-body.js';
import { consentPage, loginPage } from './views.js';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface InteractionOptions {
  provider: Provider;
  seed: Seed;
  accounts: Accounts;
}

function html(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

export function interactionRoutes({ provider, seed, accounts }: InteractionOptions): Router {
  // Every method Node accepts counts as known, so one a route does not take is 405 with Allow
  // (RFC 9110 §15.5.6), not 501.
  const router = new Router({ methods: METHODS });
  const resources = new Map(seed.resources.map((r) => [r.identifier, r]));

  async function details(ctx: Context) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction session mismatch');
    const client = await provider.Client.find(String(interaction.params.client_id));
    return { interaction, clientName: client?.clientName ?? String(interaction.params.client_id) };
  }

  async function finish(ctx: Context, result: InteractionResults): Promise<void> {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  function renderLogin(ctx: Context, uid: string, clientName: string, status = 200, error?: string, username?: string) {
    html(
      ctx,
      status,
      loginPage({
        uid,
        clientName,
        users: accounts.list(),
        personaPicker: seed.login.persona_picker,
        ...(error ? { error } : {}),
        ...(username ? { username } : {}),
      }),
    );
  }

  router.get('interaction.show', '/interaction/:uid', async function showInteraction(ctx) {
    const { interaction, clientName } = await details(ctx);
    const { uid, prompt, session } = interaction;
    if (prompt.name === 'login') return renderLogin(ctx, uid, clientName);

    const username = session?.accountId ?? '';
    const denied = accounts.deniedScopes(username);
    const missing = (prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
    html(
      ctx,
      200,
      consentPage({
        uid,
        clientName,
        username,
        openidScopes: (prompt.details.missingOIDCScope as string[] | undefined) ?? [],
        resources: Object.entries(missing).map(([identifier, scopes]) => {
          const r = resources.get(identifier);
          return {
            identifier,
            name: r?.name ?? identifier,
            scopes: scopes.map((scope) => ({
              scope,
              description: r?.scopes[scope] ?? '',
              denied: denied.has(scope),
            })),
          };
        }),
      }),
    );
  });

  router.post('interaction.login', '/interaction/:uid/login', ...formBody, async function submitLogin(ctx) {
    const { interaction, clientName } = await details(ctx);
    if (interaction.prompt.name !== 'login')
      throw new errors.InvalidRequest('this interaction does not ask for a login');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const persona = typeof body.persona === 'string' ? body.persona : undefined;
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';

    if (persona !== undefined) {
      if (!seed.login.persona_picker || !accounts.get(persona)) {
        return renderLogin(ctx, interaction.uid, clientName, 400, `There is no persona "${persona}".`);
      }
      return finish(ctx, { login: { accountId: persona } });
    }
    const user = accounts.verifyPassword(username, password);
    if (!user) {
      return renderLogin(
        ctx,
        interaction.uid,
        clientName,
        401,
        'Wrong username or password. Try again, or pick a persona.',
        username,
      );
    }
    return finish(ctx, { login: { accountId: user.username } });
  });

  router.post('interaction.consent', '/interaction/:uid/consent', ...formBody, async function submitConsent(ctx) {
    const { interaction } = await details(ctx);
    const { prompt, params, session, grantId } = interaction;
    if (prompt.name !== 'consent' || !session)
      throw new errors.InvalidRequest('this interaction does not ask for consent');
    const accountId = session.accountId;
    const grant =
      (grantId ? await provider.Grant.find(grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: String(params.client_id) });
    const denied = accounts.deniedScopes(accountId);
    const allowed = (scopes: string[]) => scopes.filter((s) => !denied.has(s)).join(' ');
    const refused = (scopes: string[]) => scopes.filter((s) => denied.has(s)).join(' ');

    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(allowed(missing.missingOIDCScope.filter((s) => OIDC_SCOPES.has(s))));
      if (refused(missing.missingOIDCScope)) grant.rejectOIDCScope(refused(missing.missingOIDCScope));
    }
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      // The account policy wins over the request: a denied scope is recorded as rejected, never granted.
      if (allowed(scopes)) grant.addResourceScope(indicator, allowed(scopes));
      if (refused(scopes)) grant.rejectResourceScope(indicator, refused(scopes));
    }
    return finish(ctx, { consent: { grantId: await grant.save() } });
  });

  router.post('interaction.abort', '/interaction/:uid/abort', ...formBody, async function abortInteraction(ctx) {
    await details(ctx);
    return finish(ctx, { error: 'access_denied', error_description: 'the user cancelled the request' });
  });

  return router;
}
