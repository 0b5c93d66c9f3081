/**
 * The seed: ONE declarative file (mock-as/seed.json) that holds the demo world — users with their
 * dev passwords and policies, clients, resources (RFC 8707 identifiers) with their scopes and token
 * lifetimes, and the token-exchange rules. This module reads it, substitutes the `${…}` address
 * placeholders, and validates it, so that a mistake stops start-up with one line naming the field.
 *
 * Walkthrough: docs/mock-as.md ("The seed file").
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The seed file that `npm run dev` uses. */
export const SEED_FILE = fileURLToPath(new URL('../seed.json', import.meta.url));

/** The demo world's addresses (scenario): all overridable from the environment. */
export const DEFAULT_ADDRESSES = {
  ISSUER: 'http://localhost:4000',
  BFF_ORIGIN: 'http://localhost:3000',
  API_ORIGIN: 'http://localhost:4001',
} as const;

/** The RFC 8693 grant type URI. @see https://www.rfc-editor.org/rfc/rfc8693.html#section-2.1 */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

const absoluteUri = z.string().refine(
  (value) => {
    // RFC 8707 §2: an absolute URI, with no fragment.
    if (!URL.canParse(value)) return false;
    return !value.includes('#');
  },
  { message: 'must be an absolute URI without a fragment' },
);

const scopeToken = z.string().regex(SCOPE_TOKEN, 'must be a scope token (RFC 6749 §3.3: no spaces or quotes)');

const user = z.strictObject({
  username: z.string().regex(/^[a-z0-9._-]+$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
  password: z.string().min(1, 'must not be empty'),
  claims: z.record(z.string(), z.unknown()),
  policy: z
    .strictObject({
      /** Scopes this account may never be granted: the consent page refuses them, and so do the grants. */
      denied_scopes: z.array(scopeToken).default([]),
      /** When false the AS never issues this user a refresh token. */
      refresh_tokens: z.boolean().default(true),
    })
    .default({ denied_scopes: [], refresh_tokens: true }),
  /** One sentence shown under the persona's button on the login page. */
  persona: z.string().optional(),
});

/**
 * RFC 7591 §2 `token_endpoint_auth_method`: the client authentication methods this AS supports, at
 * the token, introspection and revocation endpoints alike. No `none`: every client of the demo world
 * is confidential.
 * @see https://www.rfc-editor.org/rfc/rfc7591.html#section-2
 */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/**
 * RFC 7518 §3.1: the JWS algorithms a private_key_jwt client may sign its assertions with: the
 * asymmetric ones oidc-provider enables by default (HS256 belongs to client_secret_jwt, not offered).
 */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] as const;

/** JWK members that only a private (or symmetric) key has. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const publicJwk = z
  .looseObject({ kty: z.string().min(1) })
  .refine((jwk) => !PRIVATE_JWK_MEMBERS.some((m) => m in jwk), {
    message: `must be a public key: remove its private members (${PRIVATE_JWK_MEMBERS.join(', ')})`,
  });

const client = z
  .looseObject({
    client_id: z.string().min(1),
    client_secret: z.string().min(1).optional(),
    token_endpoint_auth_method: z
      .enum(CLIENT_AUTH_METHODS, { error: () => `must be one of ${CLIENT_AUTH_METHODS.join(', ')}` })
      .default('client_secret_basic'),
    /** RFC 7591 §2: the client's public keys, for private_key_jwt (RFC 7523 §3). */
    jwks: z.strictObject({ keys: z.array(publicJwk).min(1, 'must hold at least one public key') }).optional(),
    jwks_uri: absoluteUri.optional(),
    /** RFC 7591 §2: the one JWS algorithm of its client assertions. Default: any the AS supports. */
    token_endpoint_auth_signing_alg: z
      .enum(CLIENT_ASSERTION_ALGS, { error: () => `must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}` })
      .optional(),
    redirect_uris: z.array(absoluteUri).default([]),
    post_logout_redirect_uris: z.array(absoluteUri).optional(),
    /** OIDC Back-Channel Logout 1.0 §2.2: where the AS posts logout tokens, and whether they carry `sid`. */
    backchannel_logout_uri: absoluteUri.optional(),
    backchannel_logout_session_required: z.boolean().optional(),
    grant_types: z.array(z.string()),
    response_types: z.array(z.string()),
  })
  .superRefine((c, ctx) => {
    const method = c.token_endpoint_auth_method;
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (method !== 'private_key_jwt') {
      // RFC 6749 §2.3.1: the secret methods authenticate with the client_secret.
      if (c.client_secret === undefined) issue('client_secret', `${method} needs a client_secret`);
      if (c.token_endpoint_auth_signing_alg !== undefined) {
        issue('token_endpoint_auth_signing_alg', 'applies to private_key_jwt only');
      }
      return;
    }
    // RFC 7523 §3: private_key_jwt authenticates with an assertion signed by the client's private key.
    if (c.client_secret !== undefined) {
      issue('client_secret', 'private_key_jwt authenticates with a signed client assertion, not a secret: remove it');
    }
    if (c.jwks === undefined && c.jwks_uri === undefined) {
      issue('jwks', 'private_key_jwt needs the client\'s public keys: jwks ({ "keys": [...] }) or jwks_uri');
    }
  });

const resource = z.strictObject({
  identifier: absoluteUri,
  name: z.string().min(1),
  /** scope → the sentence the consent page shows for it. */
  scopes: z.record(scopeToken, z.string()),
  /** Lifetime of the access tokens issued for this resource, in seconds. */
  access_token_ttl: z.number().int().positive().max(86_400).default(300),
  /** The client this resource server authenticates as at introspection (RFC 7662 §4); optional. */
  client_id: z.string().min(1).optional(),
});

const rule = z.strictObject({
  client: z.string().min(1),
  subject_token_audiences: z.array(absoluteUri).min(1),
  targets: z.array(absoluteUri).min(1),
  $comment: z.string().optional(),
});

const seedSchema = z.strictObject({
  $comment: z.string().optional(),
  users: z.array(user).min(1),
  clients: z.array(client).min(1),
  resources: z.array(resource).min(1),
  token_exchange: z.strictObject({ rules: z.array(rule) }).default({ rules: [] }),
  login: z.strictObject({ persona_picker: z.boolean().default(true) }).default({ persona_picker: true }),
});

export type Seed = z.infer<typeof seedSchema>;
export type SeedUser = Seed['users'][number];
export type SeedClient = Seed['clients'][number];
export type SeedResource = Seed['resources'][number];
export type SeedRule = Seed['token_exchange']['rules'][number];

/** The values of the `${NAME}` placeholders, from the configuration. */
export type SeedVariables = Record<string, string>;

/** A seed that cannot be used. `message` is one line that names the file and the field. */
export class SeedError extends Error {
  override name = 'SeedError';
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(root)';
}

function substitute(value: unknown, variables: SeedVariables, path: PropertyKey[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
      const found = variables[name];
      if (found === undefined) {
        const known = Object.keys(variables).join(', ');
        throw new SeedError(`${pathOf(path)}: unknown placeholder \${${name}} (known: ${known})`);
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, variables, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, variables, [...path, k])]));
  }
  return value;
}

function check(condition: boolean, path: string, message: string): void {
  if (!condition) throw new SeedError(`${path}: ${message}`);
}

function checkKnown(values: string[], known: Set<string>, path: string, what: string): void {
  values.forEach((v, j) => {
    check(known.has(v), `${path}[${j}]`, `unknown ${what} "${v}"`);
  });
}

/** Rules that need more than one field: unique names, and references that resolve. */
function crossCheck(seed: Seed): void {
  const unique = (values: string[], path: (i: number) => string, what: string) => {
    const seen = new Set<string>();
    values.forEach((v, i) => {
      check(!seen.has(v), path(i), `duplicate ${what} "${v}"`);
      seen.add(v);
    });
  };
  unique(
    seed.users.map((u) => u.username),
    (i) => `users[${i}].username`,
    'username',
  );
  unique(
    seed.clients.map((c) => c.client_id),
    (i) => `clients[${i}].client_id`,
    'client_id',
  );
  unique(
    seed.resources.map((r) => r.identifier),
    (i) => `resources[${i}].identifier`,
    'resource',
  );

  const allScopes = new Set([...OIDC_SCOPES, ...seed.resources.flatMap((r) => Object.keys(r.scopes))]);
  seed.users.forEach((u, i) => {
    checkKnown(u.policy.denied_scopes, allScopes, `users[${i}].policy.denied_scopes`, 'scope');
  });
  seed.resources.forEach((r, i) => {
    for (const s of Object.keys(r.scopes)) {
      check(!OIDC_SCOPES.has(s), `resources[${i}].scopes.${s}`, 'is an OpenID Connect scope');
    }
  });

  const resources = new Set(seed.resources.map((r) => r.identifier));
  const clients = new Map(seed.clients.map((c) => [c.client_id, c]));
  seed.resources.forEach((r, i) => {
    if (r.client_id !== undefined) {
      check(clients.has(r.client_id), `resources[${i}].client_id`, `unknown client "${r.client_id}"`);
    }
  });
  const ruled = new Set<string>();
  seed.token_exchange.rules.forEach((r, i) => {
    const at = `token_exchange.rules[${i}]`;
    const c = clients.get(r.client);
    check(c !== undefined, `${at}.client`, `unknown client "${r.client}"`);
    check(
      c?.grant_types.includes(TOKEN_EXCHANGE) === true,
      `${at}.client`,
      `client "${r.client}" must list ${TOKEN_EXCHANGE} in its grant_types`,
    );
    checkKnown(r.subject_token_audiences, resources, `${at}.subject_token_audiences`, 'resource');
    checkKnown(r.targets, resources, `${at}.targets`, 'resource');
    ruled.add(r.client);
  });
  seed.clients.forEach((c, i) => {
    check(
      !c.grant_types.includes(TOKEN_EXCHANGE) || ruled.has(c.client_id),
      `clients[${i}].grant_types`,
      `lists token exchange, but no token_exchange.rules entry names "${c.client_id}"`,
    );
  });
}

/**
 * Validates a seed object (already parsed JSON) and substitutes its placeholders.
 * @throws SeedError with a one-line message naming the field.
 */
export function parseSeed(raw: unknown, variables: SeedVariables): Seed {
  const substituted = substitute(raw, variables, []);
  const result = seedSchema.safeParse(substituted);
  if (!result.success) {
    const issue = result.error.issues[0];
    // A bad record key carries the key's own problem one level down.
    const inner = issue?.code === 'invalid_key' ? issue.issues[0] : undefined;
    if (issue) throw new SeedError(`${pathOf(issue.path)}: ${inner?.message ?? issue.message}`);
  }
  const seed = result.data as Seed;
  crossCheck(seed);
  return seed;
}

/**
 * Reads and validates the seed file.
 * @throws SeedError whose message is one line: `<file>: <field>: <what is wrong>`.
 */
export async function loadSeed(file: string, variables: SeedVariables): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SeedError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SeedError(`${file}: is not valid JSON (${(err as Error).message})`);
  }
  try {
    return parseSeed(raw, variables);
  } catch (err) {
    if (err instanceof SeedError) throw new SeedError(`${file}: ${err.message}`);
    throw err;
  }
}
