/**
 * bff-sessioninfo: who is signed in. TMI-BFF-01 §3.2, §5 (GET, no parameters, a JSON object of the
 * backend's choosing; errors as §4.3.1).
 *
 * Walkthrough: docs/walkthrough/02-bff-sessioninfo.md.
 */
import type { Context, Middleware } from 'koa';
import type { ResolvedOptions } from '../options.js';
import { allowMethods } from '../shared/allow-methods.js';
import { requireSameOrigin } from '../shared/csrf.js';
import { errorHandler } from '../shared/error-handler.js';
import { noStore, sendJson } from '../shared/no-store.js';
import { requireSession, sessionOf } from '../shared/require-session.js';
import { requireTls } from '../shared/require-tls.js';
import { ROUTES } from '../spec.js';

// #region walkthrough:bff-sessioninfo
export function bffSessionInfo(opts: ResolvedOptions): Middleware[] {
  return [
    errorHandler(`${ROUTES.bffSessionInfo}.error`, opts.logger),
    noStore,
    // TMI-BFF-01 §3.2 (TMI-12): GET; parameters are ignored.
    allowMethods(['GET']),
    requireTls(opts.origin),
    requireSameOrigin({ header: opts.csrfHeader, origin: opts.origin }),
    requireSession(opts),
    async function respondWithSessionInfo(ctx: Context) {
      // TMI-BFF-01 §5.2 (TMI-31), D12: claims about the user, never a token.
      sendJson(ctx, await opts.sessionInfo(sessionOf(ctx), ctx));
    },
  ];
}
// #endregion
