/**
 * The backend's own sign-in and sign-out paths, in one place: the route table mounts them, pages
 * link to them, and the redirect URIs registered at the AS are built from them
 * (`<origin>/auth/callback`, and `<origin>/auth/signed-out` after RP-initiated logout).
 */
export const AUTH_PATHS = {
  /** GET: starts sign-in (`?returnTo=/path`). */
  login: '/auth/login',
  /** GET: the AS's redirect back after authorization (the registered `redirect_uri`). */
  callback: '/auth/callback',
  /** GET: the remediation of backend_not_ready, a wider grant. */
  consent: '/auth/consent',
  /** POST: signs out, and out at the AS (RP-Initiated Logout). */
  logout: '/auth/logout',
  /** GET: after RP-initiated logout, on to the page the user signed out from. */
  signedOut: '/auth/signed-out',
  /** POST, server to server: OIDC Back-Channel Logout. */
  backchannelLogout: '/auth/backchannel-logout',
} as const;

/** Every path under this prefix is the backend's own (never a return target, never proxied). */
export const AUTH_PREFIX = '/auth/';
