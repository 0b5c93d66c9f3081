/**
 * The key material of a `SealedStore`: 32 random bytes, given in a setting (base64url or hex) or kept
 * in a private key file made at first start.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalidValue } from './errors.js';
import { createPrivateFile, makePrivateFolder, tightenFile } from './private-file.js';

const SECRET_BYTES = 32;
const HOW_TO_MAKE = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

/**
 * Decodes a secret of exactly 32 bytes, written as base64url (43 characters) or hex (64).
 * Surrounding whitespace is ignored.
 * @param setting Where the value came from (e.g. `BFF_DATA_KEY`), for the error message.
 * @throws TypeError (ERR_INVALID_ARG_VALUE) naming `setting` and how to make a key; never the value.
 */
export function parseSecret(value: string, setting: string): Uint8Array {
  const text = value.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  if (/^[\w-]{43}$/.test(text)) return new Uint8Array(Buffer.from(text, 'base64url'));
  throw invalidValue(
    `${setting} must be ${SECRET_BYTES} random bytes as base64url (43 chars) or hex (64 chars); make one with: ${HOW_TO_MAKE}`,
  );
}

/**
 * Reads the secret kept in `file`, or makes one: 32 random bytes written as base64url to a new 0600
 * file in a 0700 folder. The file appears whole or not at all, and of processes starting at once
 * exactly one creates it; the others read the winner's key.
 * @throws Error naming the file when it holds no valid key.
 */
export async function loadOrCreateSecret(file: string): Promise<Uint8Array> {
  await makePrivateFolder(dirname(file));
  await tightenFile(file);
  const kept = await readSecretFile(file);
  if (kept) return kept;
  const fresh = randomBytes(SECRET_BYTES);
  if (await createPrivateFile(file, `${fresh.toString('base64url')}\n`)) return new Uint8Array(fresh);
  const winner = await readSecretFile(file);
  if (!winner) throw new Error(`${file} was removed while it was being created; start again`);
  return winner;
}

async function readSecretFile(file: string): Promise<Uint8Array | undefined> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  try {
    return parseSecret(text, file);
  } catch {
    throw new Error(
      `${file} does not hold a key (32 bytes as base64url or hex). Restore it from a backup, or delete it to have ` +
        'a new key made (what was sealed with the old key, such as sessions and refresh tokens, is then lost).',
    );
  }
}
