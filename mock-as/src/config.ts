/**
 * The mock AS configuration: one typed object, with every default declared here. Only `server.ts`
 * reads the environment, through `configFromEnv()`; tests build the object directly.
 */
import { join } from 'node:path';
import type { FaultsOption } from './faults.js';
import type { DevKeys } from './keys.js';
import { DEFAULT_ADDRESSES, type Seed } from './seed.js';

/** Token and session lifetimes, in seconds. Access tokens take theirs from the seed's resources. */
export interface Lifetimes {
  /** Default: 60. */
  AuthorizationCode: number;
  /** Default: 300. */
  IdToken: number;
  /** Default: 3600. */
  Interaction: number;
  /** Default: 14 days. Refresh tokens, their grants and the AS login session share it. */
  RefreshToken: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  AuthorizationCode: 60,
  IdToken: 300,
  Interaction: 3600,
  RefreshToken: 14 * 24 * 3600,
};

export interface MockAsConfig {
  /** The issuer identifier, e.g. `http://localhost:4000` (the default for `npm run dev`). */
  issuer: string;
  /** The validated seed (see `loadSeed`). */
  seed: Seed;
  /**
   * Folder for the lowdb data file and the generated keys. Default: none, so everything lives in
   * memory and is gone when the process exits (what tests want).
   */
  dataDir?: string | undefined;
  /** Signing and cookie keys. Default: generated at first start and kept in `dataDir`. */
  keys?: DevKeys | undefined;
  /** Default: `DEFAULT_LIFETIMES`. */
  lifetimes?: Partial<Lifetimes> | undefined;
  /** Clock skew allowed when validating JWTs (token exchange), in seconds. Default: 5. */
  clockTolerance?: number | undefined;
  /** Where log lines go. Default: console.log. */
  log?: ((line: string) => void) | undefined;
  /** Development only: the fault-injection control route (faults.ts). Default: `{ enabled: false }`. */
  faults?: FaultsOption | undefined;
}

/** What `server.ts` needs from the environment, resolved. */
export interface ServerSettings {
  issuer: string;
  /** Values for the seed file's `${…}` placeholders. */
  variables: Record<keyof typeof DEFAULT_ADDRESSES, string>;
  seedFile: string;
  dataDir: string | undefined;
  host: string;
  port: number;
  faults: FaultsOption;
}

/**
 * Reads the settings from an environment object (`process.env` at the edge).
 *
 * | variable | default |
 * |---|---|
 * | `MOCK_AS_ISSUER` | `http://localhost:4000` |
 * | `BFF_ORIGIN` | `http://localhost:3000` |
 * | `API_ORIGIN` | `http://localhost:4001` |
 * | `MOCK_AS_SEED` | `<mock-as>/seed.json` |
 * | `MOCK_AS_DATA_DIR` | `<mock-as>/.data`; the value `memory` keeps everything in memory |
 * | `MOCK_AS_HOST` | `127.0.0.1` (loopback only) |
 * | `MOCK_AS_PORT` | the issuer's port |
 * | `MOCK_AS_FAULTS` | unset; `1` mounts the development-only fault control route (faults.ts) |
 */
export function configFromEnv(env: Record<string, string | undefined>, root: string): ServerSettings {
  const issuer = (env.MOCK_AS_ISSUER || DEFAULT_ADDRESSES.ISSUER).replace(/\/$/, '');
  if (!URL.canParse(issuer)) throw new TypeError(`MOCK_AS_ISSUER must be an absolute URL, got "${issuer}"`);
  const url = new URL(issuer);
  const port = Number(env.MOCK_AS_PORT || url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`MOCK_AS_PORT must be a port number, got "${env.MOCK_AS_PORT}"`);
  }
  const dataDir = env.MOCK_AS_DATA_DIR === 'memory' ? undefined : env.MOCK_AS_DATA_DIR || join(root, '.data');
  return {
    issuer,
    variables: {
      ISSUER: issuer,
      BFF_ORIGIN: (env.BFF_ORIGIN || DEFAULT_ADDRESSES.BFF_ORIGIN).replace(/\/$/, ''),
      API_ORIGIN: (env.API_ORIGIN || DEFAULT_ADDRESSES.API_ORIGIN).replace(/\/$/, ''),
    },
    seedFile: env.MOCK_AS_SEED || join(root, 'seed.json'),
    dataDir,
    host: env.MOCK_AS_HOST || '127.0.0.1',
    port,
    faults: { enabled: env.MOCK_AS_FAULTS === '1' },
  };
}
