/**
 * @tmi-bff/mock-as: a strict local authorization server for TMI-BFF development and tests.
 * Start one in a test with `startMockAs({ seed: await loadSeed(SEED_FILE, variables) })`.
 */

export type { AccessTokenClaims, ActClaim } from './access-tokens.js';
export { createMockAs, type MockAs, type RunningMockAs, type StartOptions, startMockAs } from './app.js';
export {
  type BackendSettings,
  backendEnv,
  backendSettings,
  CONTROL_PATH,
  type DemoWorld,
  demoWorld,
} from './backend-settings.js';
export { configFromEnv, DEFAULT_LIFETIMES, type Lifetimes, type MockAsConfig } from './config.js';
export { CONTROL_SIGN_IN_PATH } from './control-sign-in.js';
export { FAULTS_PATH, type FaultState, type Faults, type FaultsOption, type TokenFailure } from './faults.js';
export { ACCESS_TOKEN_TYPE } from './grants/token-exchange.js';
export { type DevKeys, generateSigningKey } from './keys.js';
export { TokenStore } from './persistence/adapter.js';
export {
  CLIENT_ASSERTION_ALGS,
  CLIENT_AUTH_METHODS,
  type ClientAuthMethod,
  DEFAULT_ADDRESSES,
  loadSeed,
  parseSeed,
  SEED_FILE,
  type Seed,
  SeedError,
  type SeedVariables,
  TOKEN_EXCHANGE,
} from './seed.js';
