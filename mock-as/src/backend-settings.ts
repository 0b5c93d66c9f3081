/**
 * What a backend needs to know to be a client of this AS in the demo world, taken from the seed so
 * the two never drift: the `bff` client's registration, the resources the seed lets it hold tokens
 * for (the targets of its token-exchange rules) with all their scopes, and what the sample SPA shows.
 *
 * These are values like any other AS's: `npm run dev` and the mock BFF hand them to the reference
 * backend as its settings (`backendEnv`), and tests as its configuration (`backendSettings`). The
 * backend itself knows nothing of this AS.
 */
import type { Seed } from './seed.js';

/** The client part of the settings: shaped as the reference backend's `client` and `login`. */
export interface BackendSettings {
  client: {
    id: string;
    authMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
    secret?: string;
  };
  login: { scope: string; resources: string[] };
}

/** What the sample SPA shows: every resource with its scopes (and whether sign-in asks for it), the personas. */
export interface DemoWorld {
  resources: Array<{ identifier: string; name: string; scopes: Record<string, string>; atSignIn: boolean }>;
  /** With each persona's account policy, so the app can say ahead what this persona will see. */
  personas: Array<{
    username: string;
    name: string;
    persona: string;
    denied_scopes: string[];
    refresh_tokens: boolean;
  }>;
}

/** Where the AS's development control routes live (faults.ts, and the server-side sign-in). */
export const CONTROL_PATH = '/_mock';

const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);

/** The seed's confidential client `clientId` as a backend's settings. */
export function backendSettings(seed: Seed, clientId = 'bff'): BackendSettings {
  const client = seed.clients.find((c) => c.client_id === clientId);
  if (!client || !AUTH_METHODS.has(client.token_endpoint_auth_method)) {
    throw new TypeError(`the seed has no confidential client "${clientId}"`);
  }
  const targets = new Set(seed.token_exchange.rules.filter((r) => r.client === clientId).flatMap((r) => r.targets));
  const resources = seed.resources.filter((r) => targets.has(r.identifier));
  const scopes = ['openid', 'profile', 'email', ...resources.flatMap((r) => Object.keys(r.scopes))];
  return {
    client: {
      id: client.client_id,
      authMethod: client.token_endpoint_auth_method as BackendSettings['client']['authMethod'],
      ...(client.client_secret ? { secret: client.client_secret } : {}),
    },
    login: { scope: [...new Set(scopes)].join(' '), resources: resources.map((r) => r.identifier) },
  };
}

/** The sample SPA's view of the demo world. */
export function demoWorld(seed: Seed, loginResources: string[]): DemoWorld {
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
      denied_scopes: u.policy.denied_scopes,
      refresh_tokens: u.policy.refresh_tokens,
    })),
  };
}

/**
 * The same, as the reference backend's environment variables (its settings table in
 * reference-backend/src/config.ts), for a backend in another process.
 */
export function backendEnv(seed: Seed, issuer: string, clientId = 'bff'): Record<string, string> {
  const { client, login } = backendSettings(seed, clientId);
  return {
    BFF_ISSUER: issuer,
    BFF_CLIENT_ID: client.id,
    BFF_CLIENT_AUTH: client.authMethod,
    ...(client.secret ? { BFF_CLIENT_SECRET: client.secret } : {}),
    BFF_SCOPE: login.scope,
    BFF_RESOURCES: login.resources.join(' '),
    BFF_SPA_SETTINGS: JSON.stringify(demoWorld(seed, login.resources)),
  };
}
