/**
 * Development keys: the RS256 key that signs ID tokens and JWT access tokens, and the keys that sign
 * the AS's cookies. Generated at first start and kept in the data folder (never committed), so tokens
 * and sessions stay valid across restarts. Without a data folder they live in memory only.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoalescedFile } from '@tmi-bff/store';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface DevKeys {
  /** Private signing JWKs, newest first. */
  signing: JWK[];
  /** Cookie signing secrets, newest first (oidc-provider `cookies.keys`). */
  cookies: string[];
}

/** Generates a fresh RS256 signing key with `kid` = its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
}

async function generate(): Promise<DevKeys> {
  return { signing: [await generateSigningKey()], cookies: [randomBytes(32).toString('base64url')] };
}

/**
 * Loads the keys from `<dataDir>/keys.json`, creating them on first start.
 * Without `dataDir` the keys are generated for this process only.
 */
export async function loadOrCreateKeys(dataDir: string | undefined): Promise<DevKeys> {
  if (!dataDir) return generate();
  const file = new CoalescedFile<DevKeys | null>(join(dataDir, 'keys.json'), null);
  await file.open();
  if (file.data?.signing?.length && file.data.cookies?.length) return file.data;
  const keys = await generate();
  const fresh = new CoalescedFile<DevKeys>(file.file, keys);
  await fresh.flush();
  return keys;
}
