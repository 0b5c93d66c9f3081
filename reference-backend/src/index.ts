/** @tmi-bff/reference-backend: the spec-literal TMI-BFF backend, as a library for tests and tools. */
export { type Backend, createBackend } from './app.js';
export { answerClientError } from './client-error.js';
export {
  type BackendConfig,
  type ClientAuthMethod,
  type ClientConfig,
  configFromEnv,
  DEFAULTS,
  type LoginConfig,
  withDefaults,
} from './config.js';
export { type EffectiveConfigurationOptions, effectiveConfiguration } from './effective-config.js';
export { AUTH_PATHS } from './paths.js';
export { cookieNames, type SessionData } from './session/session.js';
export { checkAuthorizationServer, type Finding, type StartupReport } from './startup-check.js';
