/** @tmi-bff/demo-apis: the demo resource servers, for `npm run dev` and tests. */
export { createDemoApis } from './app.js';
export type { Hop } from './chain.js';
export { type ClientCredentials, type DemoApisConfig, identifiers } from './config.js';
