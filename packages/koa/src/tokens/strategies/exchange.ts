/**
 * D9 'exchange': RFC 8693 exchange of a broader token held for the same resource, fetched first by a
 * refresh when there is none. A request for one resource with named scopes is exchanged; any other
 * (several resources, or no scope in particular) is a plain refresh.
 */
import { cacheKey, scopeSet } from '../cache-key.js';
import type { Downscoped, Downscoper } from './downscoper.js';
import { refresh } from './refresh.js';

export const exchange: Downscoper = {
  async obtain(request, context): Promise<Downscoped> {
    const [resource] = request.resources;
    if (request.scopes.length === 0 || request.resources.length !== 1 || resource === undefined) {
      return refresh.obtain(request, context);
    }
    const alsoObtained: NonNullable<Downscoped['alsoObtained']> = [];
    let broad = context.cache.covering(context.grant, resource, request.scopes);
    if (!broad) {
      broad = (await refresh.obtain({ ...request, scopes: [] }, context)).token;
      alsoObtained.push({ token: broad, requestKey: cacheKey(request.resources, []) });
    }
    const scope = request.scopes.join(' ');
    if (scopeSet(broad.scope).join(' ') === scope) return { token: broad, source: 'refresh', alsoObtained };
    const askedAt = context.cache.now();
    const result = await context.as.exchange(broad.access_token, { resource, scope });
    return { token: context.cache.held(result, request, scope, askedAt), source: 'exchange', alsoObtained };
  },
};
