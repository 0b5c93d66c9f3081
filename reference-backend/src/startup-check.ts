/**
 * Start-up: can the authorization server at BFF_ISSUER serve this configuration? One discovery
 * (OpenID Connect Discovery 1.0 §4, RFC 8414 §3), then its metadata read against every setting that
 * needs something of it. Each finding names the real cause and the setting to change, e.g.
 *
 *   BFF_CLIENT_AUTH: the authorization server does not accept client_secret_post at its token
 *   endpoint (it accepts private_key_jwt); set BFF_CLIENT_AUTH=private_key_jwt
 *
 * An AS that cannot be reached at all is `unreachable` (the caller may start and retry later); one
 * that answered but cannot serve this configuration gives `errors` (do not start); a limit the user
 * should know of gives `warnings`.
 */
import {
  type AuthorizationServerMetadata,
  describeAsFailure,
  type OpenIdClient,
  TemporarilyUnavailable,
  TOKEN_EXCHANGE_GRANT,
} from '@tmi-bff/koa';
import type { BackendConfig } from './config.js';

export interface Finding {
  message: string;
  /** The setting to change, e.g. 'BFF_ISSUER'. */
  setting: string;
}

export interface StartupReport {
  /** Discovery could not reach the AS at all (DNS, refused, timeout): the caller may start and retry later. */
  unreachable?: Finding;
  /** The AS answered, but it cannot serve this configuration: do not start. */
  errors: Finding[];
  /** It can, with a limit the user should know. */
  warnings: Finding[];
}

/** RFC 8414 §2: an AS whose metadata names no token endpoint auth method supports this one. */
const DEFAULT_AUTH_METHOD = 'client_secret_basic';
/** The methods the backend can authenticate with, and what each one needs besides BFF_CLIENT_AUTH. */
const BACKEND_AUTH_METHODS: Record<string, string> = {
  client_secret_basic: 'BFF_CLIENT_SECRET',
  client_secret_post: 'BFF_CLIENT_SECRET',
  private_key_jwt: 'BFF_CLIENT_KEY_FILE',
};

/**
 * Discovers the AS's metadata and checks it against `config`. Discovery waits at most
 * BFF_AS_TIMEOUT_MS (`config.tokens.asTimeoutMs`); a slower AS is `unreachable` for now.
 *
 * @see [OpenID Connect Discovery 1.0 §4: Obtaining OpenID Provider Configuration Information](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 * @see [RFC 8414 §2: Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export async function checkAuthorizationServer(
  config: BackendConfig,
  client: Pick<OpenIdClient, 'metadata'>,
): Promise<StartupReport> {
  let metadata: AuthorizationServerMetadata;
  const ms = config.tokens.asTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DiscoveryTimeout(ms)), ms);
  });
  try {
    metadata = await Promise.race([client.metadata(), late]);
  } catch (err) {
    return discoveryFailure(config.issuer, err instanceof TemporarilyUnavailable ? (err.cause ?? err) : err);
  } finally {
    clearTimeout(timer);
  }
  const report: StartupReport = { errors: [], warnings: [] };
  for (const check of METADATA_CHECKS) check(config, metadata, report);
  return report;
}

/** No metadata within BFF_AS_TIMEOUT_MS (discovery itself goes on, and the client keeps its result). */
class DiscoveryTimeout extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly ms: number) {
    super(`no metadata within ${ms} ms`);
  }
}

/** Where openid-client looks for the metadata: the issuer's path + /.well-known/openid-configuration. */
export function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace(/\/{2,}/g, '/');
  return url.href;
}

/** The first `code` found on the error or its causes that `test` accepts. */
function codeIn(err: unknown, test: (code: string) => boolean): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && test(code)) return code;
  }
  return undefined;
}

/** Node's TLS failures: an https URL at a plain-http server, or a certificate it does not trust. */
const isTlsCode = (code: string) =>
  code.startsWith('ERR_SSL_') ||
  code.startsWith('ERR_TLS_') ||
  code.startsWith('CERT_') ||
  /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);

function tlsFailure(issuer: string, url: string, code: string): string {
  const at = `TLS failed at ${url} (${code})`;
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(code)) {
    return (
      `${at}: the server there speaks plain http, not https. Set BFF_ISSUER to its https address, ` +
      `or, for an http authorization server on this machine, to ${issuer.replace(/^https:/, 'http:')}`
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${at}: its certificate is not for this host name. Set BFF_ISSUER to the host name the certificate names`;
  }
  return (
    `${at}: its certificate is not trusted (expired, self-signed or from an unknown CA). ` +
    'Fix the certificate, or give Node the CA that signed it (NODE_EXTRA_CA_CERTS=<ca.pem>), and check BFF_ISSUER'
  );
}

/** The HTTP answer an openid-client discovery error carries (oauth4webapi puts the Response in `cause`). */
function responseOf(err: unknown): Response | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof Response) return e;
  }
  return undefined;
}

/** Names the real cause of a failed discovery, and the setting (always BFF_ISSUER) to change. */
function discoveryFailure(issuer: string, err: unknown): StartupReport {
  const url = discoveryUrl(issuer);
  const setting = 'BFF_ISSUER';
  const failure = describeAsFailure(err, issuer);
  const down = (cause: string): StartupReport => ({
    unreachable: {
      setting,
      message:
        `the authorization server at BFF_ISSUER (${issuer}) could not be reached: ${cause}. ` +
        'Is it running? Is the host right?',
    },
    errors: [],
    warnings: [],
  });
  const error = (message: string): StartupReport => ({ errors: [{ setting, message }], warnings: [] });

  const tls = codeIn(err, isTlsCode);
  if (tls) return error(tlsFailure(issuer, url, tls));
  if (err instanceof DiscoveryTimeout) {
    return down(`discovery at ${url} got no answer within BFF_AS_TIMEOUT_MS (${err.ms} ms)`);
  }
  if (failure.reason === 'timeout') return down(`discovery at ${url} got no answer in time`);
  if (failure.reason === 'unreachable') {
    const { hostname, host } = new URL(url);
    const code = codeIn(err, () => true);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return down(`the host name ${hostname} does not resolve (${code})`);
    if (code === 'ECONNREFUSED') return down(`nothing listens at ${host} (connection refused, ECONNREFUSED)`);
    return down(`the connection to ${host} failed (${code ?? failure.detail})`);
  }

  const code = (err as { code?: unknown })?.code;
  const response = responseOf(err);
  const type = response?.headers.get('content-type') || 'no content type';
  const where = response?.url || url;
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && response) {
    const status = `discovery at ${where} answered HTTP ${response.status}`;
    if (response.status >= 300 && response.status < 400) {
      return error(
        `${status} (a redirect to ${response.headers.get('location') ?? 'nowhere'}), and discovery follows no ` +
          'redirects: set BFF_ISSUER to the issuer identifier itself, as its metadata states it',
      );
    }
    if (response.status >= 500) {
      return error(`${status}: the authorization server failed; see its logs, and check BFF_ISSUER`);
    }
    return error(
      `${status}: BFF_ISSUER must be the issuer identifier, the URL under which ` +
        '/.well-known/openid-configuration serves the metadata (its path included, e.g. a realm or tenant)',
    );
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
    return error(
      `discovery at ${where} answered ${type}, not JSON metadata: BFF_ISSUER is probably not the ` +
        "authorization server's issuer identifier",
    );
  }
  if (code === 'OAUTH_INVALID_RESPONSE' || code === 'OAUTH_PARSE_ERROR') {
    const why = (err as { cause?: { message?: unknown } }).cause?.message;
    return error(
      `discovery at ${url} answered something that is not authorization server metadata ` +
        `(${typeof why === 'string' ? why : failure.detail}): check that BFF_ISSUER is the authorization server's issuer identifier`,
    );
  }
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    const named = (err as { cause?: { body?: { issuer?: unknown } } }).cause?.body?.issuer;
    return { errors: [issuerMismatch(issuer, String(named))], warnings: [] };
  }
  return error(`discovery at ${url} failed: ${failure.description} (${failure.detail}); check BFF_ISSUER`);
}

/** OIDC Discovery 1.0 §4.3, RFC 8414 §3.3: the metadata's issuer MUST be identical to the configured one. */
function issuerMismatch(configured: string, named: string): Finding {
  return {
    setting: 'BFF_ISSUER',
    message:
      `the metadata at ${discoveryUrl(configured)} names the issuer "${named}", but BFF_ISSUER is "${configured}": ` +
      'they must be identical, character for character, a trailing slash included (OpenID Connect Discovery 1.0 §4.3, ' +
      `RFC 8414 §3.3). If that is the authorization server you mean, set BFF_ISSUER=${named}`,
  };
}

type MetadataCheck = (config: BackendConfig, metadata: AuthorizationServerMetadata, report: StartupReport) => void;

const list = (values: readonly string[]) => values.join(', ');

/** The scopes OpenID Connect defines (Core §5.4, §11): an OpenID Provider that supports one lists it. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

/** Each check reads the metadata for one setting; the order is the order of the findings. */
const METADATA_CHECKS: MetadataCheck[] = [
  function exactIssuer(config, metadata, report) {
    // OIDC Discovery 1.0 §4.3: openid-client compares URLs, so http://as and http://as/ pass there.
    if (metadata.issuer !== config.issuer) report.errors.push(issuerMismatch(config.issuer, metadata.issuer));
  },

  function endpoints(_config, metadata, report) {
    // RFC 8414 §2: authorization_endpoint and token_endpoint are REQUIRED for the code grant.
    for (const member of ['authorization_endpoint', 'token_endpoint'] as const) {
      if (!metadata[member]) {
        report.errors.push({
          setting: 'BFF_ISSUER',
          message: `the authorization server's metadata has no ${member}, which sign-in needs (RFC 8414 §2): check BFF_ISSUER`,
        });
      }
    }
  },

  function codeFlow(_config, metadata, report) {
    const types = metadata.response_types_supported;
    // The backend signs users in with the authorization code flow (RFC 6749 §4.1).
    if (types && !types.includes('code')) {
      report.errors.push({
        setting: 'BFF_ISSUER',
        message:
          `the authorization server does not offer the authorization code flow (response_types_supported: ` +
          `${list(types)}), which sign-in uses: enable response_type=code for this client at the authorization server`,
      });
    }
  },

  function grantTypes(config, metadata, report) {
    const grants = metadata.grant_types_supported;
    const exchange = config.tokens.strategy === 'exchange';
    if (!grants) {
      // RFC 8414 §2: the default omits refresh_token, yet most authorization servers support it.
      report.warnings.push({
        setting: exchange ? 'BFF_DOWNSCOPING' : 'BFF_SCOPE',
        message:
          'the authorization server does not list grant_types_supported, so the backend cannot confirm that it ' +
          `issues refresh tokens${exchange ? ' or accepts token exchange (BFF_DOWNSCOPING=exchange)' : ''}; ` +
          'if bff-token fails, check the grant types enabled for this client at the authorization server',
      });
      return;
    }
    if (!grants.includes('refresh_token')) {
      report.errors.push({
        setting: 'BFF_SCOPE',
        message:
          `the authorization server does not support the refresh_token grant (grant_types_supported: ${list(grants)}), ` +
          'and the backend needs refresh tokens to keep access tokens for the session: enable refresh tokens for ' +
          'this client at the authorization server (many ask for offline_access in BFF_SCOPE)',
      });
    }
    // RFC 8693 §2.1: token exchange is a grant type of its own.
    if (exchange && !grants.includes(TOKEN_EXCHANGE_GRANT)) {
      report.errors.push({
        setting: 'BFF_DOWNSCOPING',
        message:
          `BFF_DOWNSCOPING=exchange needs token exchange (${TOKEN_EXCHANGE_GRANT}), which the authorization ` +
          `server does not list in grant_types_supported (${list(grants)}): set BFF_DOWNSCOPING=refresh, ` +
          'or enable token exchange at the authorization server',
      });
    }
  },

  function pkce(_config, metadata, report) {
    const methods = metadata.code_challenge_methods_supported;
    // RFC 9700 §2.1.1: PKCE with S256; the backend sends code_challenge_method=S256 on every sign-in.
    if (!methods) {
      report.warnings.push({
        setting: 'BFF_ISSUER',
        message:
          'the authorization server does not list code_challenge_methods_supported, so it may ignore PKCE ' +
          '(RFC 9700 §2.1.1); the backend sends S256 anyway. Enable PKCE at the authorization server if it can',
      });
    } else if (!methods.includes('S256')) {
      report.errors.push({
        setting: 'BFF_ISSUER',
        message:
          `the authorization server does not support PKCE with S256 (code_challenge_methods_supported: ${list(methods)}), ` +
          'which the backend uses on every sign-in (RFC 9700 §2.1.1): enable S256 at the authorization server',
      });
    }
  },

  function clientAuthentication(config, metadata, report) {
    const method = config.client.authMethod ?? DEFAULT_AUTH_METHOD;
    // RFC 8414 §2: omitted, the default is client_secret_basic.
    const supported = metadata.token_endpoint_auth_methods_supported ?? [DEFAULT_AUTH_METHOD];
    if (!supported.includes(method)) {
      const usable = supported.filter((m) => m in BACKEND_AUTH_METHODS);
      const fix = usable.length
        ? `set BFF_CLIENT_AUTH=${usable[0]} (with ${BACKEND_AUTH_METHODS[usable[0] as string]})`
        : 'none of them is one the backend can use (client_secret_basic, client_secret_post, private_key_jwt)';
      report.errors.push({
        setting: 'BFF_CLIENT_AUTH',
        message:
          `the authorization server does not accept ${method} at its token endpoint ` +
          `(token_endpoint_auth_methods_supported: ${list(supported)}): ${fix}`,
      });
      return;
    }
    const alg = config.client.privateKey?.alg;
    const algs = metadata.token_endpoint_auth_signing_alg_values_supported;
    // RFC 8414 §2: the algorithms the token endpoint takes for a private_key_jwt assertion.
    if (method === 'private_key_jwt' && alg && algs && !algs.includes(alg)) {
      report.errors.push({
        setting: 'BFF_CLIENT_KEY_ALG',
        message:
          `the authorization server does not accept ${alg} client assertions ` +
          `(token_endpoint_auth_signing_alg_values_supported: ${list(algs)}): set BFF_CLIENT_KEY_ALG to one of them, with a key of that type`,
      });
    }
  },

  function signOut(_config, metadata, report) {
    // RFC 7009 §2: without it, sign-out cannot end the refresh token at the AS.
    if (!metadata.revocation_endpoint) {
      report.warnings.push({
        setting: 'BFF_ISSUER',
        message:
          'the authorization server has no revocation_endpoint: sign-out cannot revoke refresh tokens there ' +
          '(RFC 7009); they stay valid at the authorization server until they expire',
      });
    }
    // OpenID Connect RP-Initiated Logout 1.0 §2.
    if (!metadata.end_session_endpoint) {
      report.warnings.push({
        setting: 'BFF_ISSUER',
        message:
          'the authorization server has no end_session_endpoint: sign-out ends only the local session, and the ' +
          'user stays signed in at the authorization server (OpenID Connect RP-Initiated Logout 1.0)',
      });
    }
  },

  function scopes(config, metadata, report) {
    const supported = metadata.scopes_supported;
    if (!supported) return;
    // RFC 8414 §2: an AS MAY leave scopes out of scopes_supported, and API scopes (a resource's own)
    // routinely are; so only the OpenID Connect scopes are looked for, and a gap is a warning.
    const missing = config.login.scope.split(' ').filter((s) => OIDC_SCOPES.has(s) && !supported.includes(s));
    if (!missing.length) return;
    report.warnings.push({
      setting: 'BFF_SCOPE',
      message:
        `BFF_SCOPE asks for ${list(missing)}, which the authorization server does not list in scopes_supported ` +
        `(${list(supported)}); if sign-in fails with invalid_scope, remove ${missing.length > 1 ? 'them' : 'it'} from BFF_SCOPE`,
    });
  },
  // RFC 8707 resources (login.resources): no standard metadata says whether an AS takes them, so nothing is checked.
];
