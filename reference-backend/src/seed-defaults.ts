/**
 * The demo world's client settings, read from the mock AS's seed file so the two never drift:
 * the `bff` client's credentials, and the resources the seed lets it hold tokens for (the targets of
 * its token-exchange rules) with all their scopes.
 */
import type { Seed } from '@tmi-bff/mock-as/seed';
import { type BackendConfig, DEFAULTS, type SeedDefaults } from './config.js';

export function seedDefaults(seed: Seed, clientId = 'bff'): SeedDefaults {
  const client = seed.clients.find((c) => c.client_id === clientId);
  if (!client?.client_secret) throw new TypeError(`the seed has no confidential client "${clientId}"`);
  const targets = new Set(seed.token_exchange.rules.filter((r) => r.client === clientId).flatMap((r) => r.targets));
  const resources = seed.resources.filter((r) => targets.has(r.identifier));
  const scopes = ['openid', 'profile', 'email', ...resources.flatMap((r) => Object.keys(r.scopes))];
  const login = { scope: [...new Set(scopes)].join(' '), resources: resources.map((r) => r.identifier) };
  return {
    client: { id: client.client_id, secret: client.client_secret },
    login,
    spaSettings: spaSettings(seed, login.resources),
  };
}

/**
 * What the sample SPA shows, from the same seed: every resource with its scopes (and whether sign-in
 * asks for it, so the app can explain backend_not_ready), and the personas.
 */
export function spaSettings(seed: Seed, loginResources: string[]) {
  return {
    resources: seed.resources.map((r) => ({
      identifier: r.identifier,
      name: r.name,
      scopes: r.scopes,
      atSignIn: loginResources.includes(r.identifier),
    })),
    personas: seed.users.map((u) => ({
      username: u.username,
      name: typeof u.claims.name === 'string' ? u.claims.name : u.username,
      persona: u.persona ?? '',
    })),
  };
}

/** A complete configuration for the demo world on `origin`, against `issuer`, with every default. */
export function demoConfig(seed: Seed, origin: string, issuer: string): BackendConfig {
  const { spaSettings: _, ...defaults } = seedDefaults(seed);
  return {
    origin,
    issuer,
    ...defaults,
    tokens: {
      strategy: DEFAULTS.strategy,
      expiryMarginSeconds: DEFAULTS.expiryMarginSeconds,
      asTimeoutMs: DEFAULTS.asTimeoutMs,
      defaultResource: defaults.login.resources[0],
    },
    sessionMaxAgeMs: DEFAULTS.sessionMaxAgeMs,
  };
}
