/**
 * The load soak's mock AS, in a process of its own (forked by _soak.ts) so the soak spreads over the
 * machine's cores. Its access tokens live `ttl` seconds; it counts every token endpoint outcome and
 * every grant it revoked, and tells the parent on request.
 *
 *   SOAK_AS={"bffOrigin":"http://127.0.0.1:…","ttl":20}
 */
import { DEFAULT_ADDRESSES, loadSeed, SEED_FILE, startMockAs } from '@tmi-bff/mock-as';

export interface AsCounts {
  /** Token endpoint successes by grant_type. */
  granted: Record<string, number>;
  /** Token endpoint errors by `<grant_type> <error>`. */
  refused: Record<string, number>;
  /** Grants revoked (oidc-provider's `grant.revoked`: a replayed refresh token, a revocation, a logout). */
  revoked: number;
}

const { bffOrigin, ttl } = JSON.parse(process.env.SOAK_AS ?? '{}') as { bffOrigin: string; ttl: number };
const seed = await loadSeed(SEED_FILE, { ...DEFAULT_ADDRESSES, BFF_ORIGIN: bffOrigin });
const as = await startMockAs({
  seed: { ...seed, resources: seed.resources.map((r) => ({ ...r, access_token_ttl: ttl })) },
  log: () => {},
});
// Idle connections kept as long as the backends' (_soak-backend.ts), for the same reason.
as.server.keepAliveTimeout = 60_000;
as.server.headersTimeout = 61_000;
const counts: AsCounts = { granted: {}, refused: {}, revoked: 0 };
const add = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};
as.provider.on('grant.success', (ctx) => add(counts.granted, String(ctx.oidc.params?.grant_type)));
as.provider.on('grant.error', (ctx, err) =>
  add(counts.refused, `${String(ctx.oidc.params?.grant_type)} ${(err as { error?: string }).error}`),
);
as.provider.on('grant.revoked', () => {
  counts.revoked += 1;
});
process.on('message', (message) => {
  if (message === 'counts') process.send?.({ counts });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ issuer: as.issuer });
