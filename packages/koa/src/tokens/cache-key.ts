/**
 * D8: the token cache is keyed by the sorted resource set and the sorted scope set, so that only an
 * exact match is ever served: a token for resource A never answers a request for B, and a token with
 * more scopes than asked for never answers a narrower request (TMI-BFF-01 §8.3, TMI-24).
 */
export function cacheKey(resources: readonly string[], scopes: readonly string[]): string {
  return JSON.stringify([[...new Set(resources)].sort(), [...new Set(scopes)].sort()]);
}

/** A scope string as a sorted set of tokens. */
export function scopeSet(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))].sort();
}
