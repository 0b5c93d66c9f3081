/**
 * The cookies' signatures (D5): Koa's `app.keys`, as a Keygrip-like object (`sign`, `verify`,
 * `index`) that the `cookies` package calls. A signature is HMAC-SHA-256 of the cookie (`name=value`)
 * under the newest key, base64url; checking one costs one HMAC and a constant-time comparison
 * (crypto.timingSafeEqual), not keygrip's default of an HMAC-SHA-1 per key plus a random
 * double-HMAC comparison (tsscmp).
 *
 * Rotation (`cookieKeys`, newest first): `index` tries the keys in order; a cookie signed with
 * an older key still listed is accepted, and `cookies` re-signs it with the newest (any index but 0).
 * A key taken off the list no longer verifies anything. A cookie signed the keygrip way (HMAC-SHA-1)
 * by an earlier version is accepted under a listed key too, and re-signed.
 *
 * A signature that verified is remembered for its cookie (the last `VERIFIED_CACHE_SIZE` cookies):
 * the same cookie with the same signature is accepted again after a constant-time comparison, with
 * no HMAC. A new list of keys is a new `CookieKeys`, which remembers nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Recent } from '@tmi-bff/store';

const mac = (algorithm: 'sha256' | 'sha1', key: string, data: string) =>
  createHmac(algorithm, key).update(data).digest('base64url');

/** Length of a base64url HMAC-SHA-1 (keygrip's default), as earlier versions signed. */
const SHA1_LENGTH = 27;

/** How many verified cookies a `CookieKeys` remembers. */
export const VERIFIED_CACHE_SIZE = 10_000;

function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export class CookieKeys {
  readonly #keys: readonly string[];
  readonly #verified = new Recent<string, { digest: string; index: number }>(VERIFIED_CACHE_SIZE);

  constructor(keys: readonly string[]) {
    if (keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
      throw new TypeError('cookie keys must be a non-empty list of non-empty strings');
    }
    this.#keys = [...keys];
  }

  sign(data: string): string {
    return mac('sha256', this.#keys[0] as string, data);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The position of the key that signed `data`, -1 if none; past the list for a SHA-1 signature. */
  index(data: string, digest: string): number {
    if (typeof digest !== 'string') return -1;
    const known = this.#verified.get(data);
    if (known && same(digest, known.digest)) return known.index;
    const index = this.#index(data, digest);
    if (index > -1) this.#verified.set(data, { digest, index });
    return index;
  }

  #index(data: string, digest: string): number {
    const sha1 = digest.length === SHA1_LENGTH;
    for (let i = 0; i < this.#keys.length; i++) {
      const key = this.#keys[i] as string;
      if (sha1 ? same(digest, mac('sha1', key, data)) : same(digest, mac('sha256', key, data))) {
        return sha1 ? this.#keys.length + i : i;
      }
    }
    return -1;
  }
}
