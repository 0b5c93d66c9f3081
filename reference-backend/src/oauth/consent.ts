/**
 * GET /auth/consent?resource=…&scope=…&returnTo=…: the remediation of backend_not_ready (D13,
 * `remediation: "consent"`). The user is asked, at the AS, for a resource or scope the session's
 * grant does not cover; the session is kept, and its grant grows at the callback (callback.ts).
 *
 * Walkthrough: docs/walkthrough/01-login.md.
 */
import type { Context, Middleware, Next } from 'koa';
import { AUTH_PATHS } from '../paths.js';
import { currentSession } from '../session/session.js';
import { authorizationRedirect, type SignInDeps } from './login.js';
import { safeReturnTo } from './return-to.js';

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
const split = (s: string | undefined) => (s ?? '').split(' ').filter(Boolean);

interface ConsentState {
  returnTo: string;
  grant: { scope: string; resources: readonly string[] };
}
const consentState = (ctx: Context) => ctx.state as ConsentState;

export function consentRoute(deps: SignInDeps): Middleware[] {
  const { config, tokens } = deps;
  const redirectToAuthorization = authorizationRedirect(deps);
  return [
    // Without a session (or its grant), there is nothing to widen: sign in, and come back.
    async function requireGrant(ctx: Context, next: Next) {
      const session = currentSession(ctx);
      const returnTo = safeReturnTo(ctx.query.returnTo, config.origin);
      const grant = session ? await tokens.getGrant(session.id) : undefined;
      if (!grant) {
        ctx.status = 303;
        ctx.redirect(`${AUTH_PATHS.login}?returnTo=${encodeURIComponent(returnTo)}`);
        return;
      }
      Object.assign(consentState(ctx), { returnTo, grant });
      await next();
    },

    // D13: what the grant holds, plus what the app asks for; `prompt=consent`, as the user must agree.
    async function startConsent(ctx: Context) {
      const { returnTo, grant } = consentState(ctx);
      const session = currentSession(ctx);
      const asked = (name: string) => [ctx.query[name] ?? []].flat().filter((v): v is string => typeof v === 'string');
      await redirectToAuthorization(
        ctx,
        {
          return_to: returnTo,
          scope: union(split(grant.scope), asked('scope').flatMap(split)).join(' '),
          resources: union(
            [...grant.resources],
            asked('resource').filter((r) => URL.canParse(r)),
          ),
          sid: session?.id,
          iss: typeof session?.claims.iss === 'string' ? session.claims.iss : undefined,
          sub: typeof session?.claims.sub === 'string' ? session.claims.sub : undefined,
        },
        'consent',
      );
    },
  ];
}
