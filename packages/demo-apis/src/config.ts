/** The demo APIs' configuration: one typed object; only server.ts reads the environment. */

export interface ClientCredentials {
  id: string;
  secret: string;
}

export interface DemoApisConfig {
  /** The AS issuer. Default for `npm run dev`: http://localhost:4000. */
  issuer: string;
  /** Base of the resource identifiers: `<apiOrigin>/stocks`, `/a`, `/b`, `/c`. Default: http://localhost:4001. */
  apiOrigin: string;
  /** Where the services reach each other. Default: `apiOrigin`. */
  selfUrl?: string | undefined;
  /** The only origin CORS allows: the app's. Default: http://localhost:3000. */
  appOrigin: string;
  /** Confidential clients A and B use for token exchange. Default: the seed's service-a and service-b. */
  clients: { a: ClientCredentials; b: ClientCredentials };
  /** Allow an http:// AS (loopback development). Default: true when the issuer is http://. */
  allowInsecureRequests?: boolean | undefined;
  /** Default: console.log. */
  log?: ((line: string) => void) | undefined;
}

export const identifiers = (apiOrigin: string) => ({
  stocks: `${apiOrigin}/stocks`,
  a: `${apiOrigin}/a`,
  b: `${apiOrigin}/b`,
  c: `${apiOrigin}/c`,
});
