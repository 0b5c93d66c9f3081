/**
 * Accounts: the seed's users, their claims, their dev passwords and their policies.
 * `findAccount` is what oidc-provider calls to load a user; `verifyPassword` backs the login form.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Account, FindAccount } from 'oidc-provider';
import type { Seed, SeedUser } from './seed.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export class Accounts {
  readonly #users: Map<string, SeedUser>;

  constructor(seed: Seed) {
    this.#users = new Map(seed.users.map((u) => [u.username, u]));
  }

  /** All users, in seed order (the persona picker lists them). */
  list(): SeedUser[] {
    return [...this.#users.values()];
  }

  get(username: string): SeedUser | undefined {
    return this.#users.get(username);
  }

  /** The user when the password matches, compared in constant time. */
  verifyPassword(username: string, password: string): SeedUser | undefined {
    const user = this.#users.get(username);
    const ok = timingSafeEqual(digest(user?.password ?? '\0'), digest(password));
    return user && ok ? user : undefined;
  }

  /** Scopes the user's policy never allows. */
  deniedScopes(username: string | undefined): Set<string> {
    return new Set(username ? (this.#users.get(username)?.policy.denied_scopes ?? []) : []);
  }

  /** Whether the user's policy lets the AS issue refresh tokens. */
  mayHaveRefreshTokens(username: string): boolean {
    return this.#users.get(username)?.policy.refresh_tokens ?? false;
  }

  readonly findAccount: FindAccount = async (_ctx, sub): Promise<Account | undefined> => {
    const user = this.#users.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ ...user.claims, sub }) };
  };
}
