/** D9 'refresh' (the default): RFC 6749 §6 refresh with RFC 8707 resources and the (narrower) scope. */
import type { Downscoper } from './downscoper.js';

export const refresh: Downscoper = {
  async obtain(request, { grant, cache, spendRefreshToken }) {
    const askedAt = cache.now();
    const result = await spendRefreshToken({
      resources: request.resources,
      scope: request.scopes.join(' ') || undefined,
    });
    return { token: cache.held(result, request, grant.scope, askedAt), source: 'refresh' };
  },
};
