/**
 * The draft revision this package implements, and the names it defines. Code cites rules as
 * `TMI-BFF-01 §x.y (TMI-NN)`; our profile decisions where the draft is silent are `D1`…`D14`
 * (docs/deviations.md).
 *
 * @see https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01
 */
export const SPEC = Object.freeze({
  name: 'TMI-BFF',
  draft: 'draft-bertocci-oauth2-tmi-bff-01',
});

/**
 * Default endpoint paths (TMI-BFF-01 §3.1, §3.2; RFC 8615). Both are configurable (D1).
 * @see https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01#section-3
 */
export const WELL_KNOWN = Object.freeze({
  bffToken: '/.well-known/bff-token',
  bffSessionInfo: '/.well-known/bff-sessioninfo',
});

/** D4: the static header every call to both endpoints must carry. */
export const CSRF_HEADER = 'TMI-BFF-CSRF';

/**
 * D11 (extension): `fresh=1` on bff-token asks for a new token instead of the cached one, after a
 * resource server rejected it. A literal TMI-BFF backend ignores it (TMI-BFF-01 §3.1: unknown
 * parameters MUST be ignored), so sending it is harmless.
 */
export const FRESH_PARAMETER = 'fresh';

/** `<meta name>` values that advertise the configured paths in served HTML (D1). */
export const META_NAMES = Object.freeze({
  bffToken: 'tmi-bff-token-endpoint',
  bffSessionInfo: 'tmi-bff-sessioninfo-endpoint',
});

/** Stable route names, used in logs and events. */
export const ROUTES = Object.freeze({
  bffToken: 'bff.token',
  bffSessionInfo: 'bff.sessioninfo',
});
