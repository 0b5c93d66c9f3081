/**
 * What the app tells the user after an error, and what it offers to do next (TMI-BFF-01 §4.3,
 * TMI-44): branch on the SDK's stable `code`, never on a message.
 */
import { BffError, BffResponseError, ERROR_CODES } from '@tmi-bff/client';
import { errorRef } from './refs.js';
import type { Persona } from './settings.js';
import type { Advice } from './view.js';

/** What the advice takes into account besides the error: who is signed in, and a consent just given. */
export const adviceContext: { persona?: Persona | undefined; consentedFor?: string | undefined } = {};

export interface Wanted {
  resource?: string | undefined;
  scope?: string | undefined;
}

const signIn = { label: 'Sign in', href: '/auth/login?returnTo=%2F%3Fafter%3Dsign-in' };
/** Step 1's form: sign out here and at the AS, then sign in as someone else. */
const switchPersona = { label: 'Switch persona (step 1)', href: '#step-sign-in' };

/** D13: the backend's remediation route for backend_not_ready, coming back to this page. */
export function consentHref({ resource, scope }: Wanted): string {
  const q = new URLSearchParams();
  if (resource) q.set('resource', resource);
  if (scope) q.set('scope', scope);
  // Back here, the app knows which resource was consented to: it does not offer the same consent twice.
  q.set('returnTo', `/?${new URLSearchParams({ after: 'consent', ...(resource ? { for: resource } : {}) })}`);
  return `/auth/consent?${q}`;
}

export function adviceFor(err: unknown, wanted: Wanted = {}): Advice {
  if (!(err instanceof BffError)) {
    return { title: 'Unexpected failure', text: String(err), actions: [], refs: [] };
  }
  const wire = err instanceof BffResponseError ? err : undefined;
  const said = wire?.error_description ? ` The backend said: “${wire.error_description}”.` : '';
  const refs = wire ? [errorRef(wire.error)] : [];
  const { persona } = adviceContext;
  const who = persona ? `${persona.name} (${persona.username})` : 'this user';
  // D13: a consent already given for this resource, and still not ready: the remediation ends here.
  const consentedAlready = wanted.resource !== undefined && adviceContext.consentedFor === wanted.resource;
  switch (err.code) {
    case ERROR_CODES.INVALID_SESSION:
      return {
        title: 'Not signed in (invalid_session)',
        text: `The backend has no valid session for this request.${said} Sign in: a navigation to the backend, not a fetch.`,
        actions: [signIn],
        refs,
      };
    case ERROR_CODES.BACKEND_NOT_READY:
      // D13: the backend says which remediation applies; an older backend says nothing (the two offers).
      if (wire?.remediation === 'configuration') {
        return {
          title: 'The backend gets no refresh token from this authorization server (backend_not_ready)',
          text:
            `Sign-in worked, but the authorization server issued the backend no refresh token, so it cannot get tokens for you.${said} ` +
            (persona?.refresh_tokens === false
              ? `That is ${who}'s account policy at the AS: signing in again gives the same answer. Switch persona to get tokens.`
              : 'Signing in again will not help: with a real AS, ask for offline_access in BFF_SCOPE (the backend log names the setting).'),
          actions: persona?.refresh_tokens === false ? [switchPersona] : [],
          refs,
        };
      }
      if (consentedAlready && wire?.remediation !== 'sign_in') {
        return {
          title: 'Still not ready after your consent (backend_not_ready)',
          text:
            `You granted access to ${wanted.resource} at the AS and came back, yet the backend still cannot get this token.${said} ` +
            'Asking for the same consent again would only loop: the AS did not add it to the grant (was it declined?). ' +
            'Sign in again, or switch persona.',
          actions: [{ ...signIn, label: 'Sign in again' }, switchPersona],
          refs,
        };
      }
      if (wire?.remediation === 'sign_in') {
        return {
          title: 'The backend’s refresh token is gone (backend_not_ready)',
          text: `It expired, or was revoked or reused.${said} Sign in again: a navigation to the backend.`,
          actions: [{ ...signIn, label: 'Sign in again' }],
          refs,
        };
      }
      if (wire?.remediation === 'consent') {
        return {
          title: 'The backend cannot get this token without you (backend_not_ready)',
          text:
            `Your grant does not cover ${wanted.resource ?? 'this resource'}${wanted.scope ? ` with ${wanted.scope}` : ''}.${said} ` +
            'Grant access at the authorization server, and you stay signed in.',
          actions: [{ label: 'Grant access', href: consentHref(wanted) }],
          refs,
        };
      }
      return {
        title: 'The backend cannot get this token without you (backend_not_ready)',
        text:
          `The backend holds nothing it can use, without you, to get a token for ${wanted.resource ?? 'this resource'}` +
          `${wanted.scope ? ` with ${wanted.scope}` : ''}.${said} Grant access at the authorization server, and ` +
          'you stay signed in; if sign-in gave the backend no refresh token (carol), sign in again.',
        actions: [
          { label: 'Grant access', href: consentHref(wanted) },
          { ...signIn, label: 'Sign in again' },
        ],
        refs,
      };
    case ERROR_CODES.TEMPORARILY_UNAVAILABLE:
      return {
        title: 'The authorization server did not answer (temporarily_unavailable)',
        text: `Your session and its tokens are kept.${said} Try again in a moment; is the mock AS still running?`,
        actions: [],
        refs,
      };
    case ERROR_CODES.INVALID_REQUEST:
      return { title: 'The request was malformed (invalid_request)', text: `${said}`.trim(), actions: [], refs };
    case ERROR_CODES.AUTHORIZATION_SERVER_ERROR:
      return {
        title: `The authorization server refused (${wire?.error ?? 'error'})`,
        text: `${wire?.error_description ? `“${wire.error_description}”` : 'It gave no description.'} ${refusalWhy(wanted, persona, who)}`,
        actions: [switchPersona],
        refs,
      };
    case ERROR_CODES.TOKEN_REJECTED:
      return {
        title: 'The API rejected a fresh token too',
        text: 'The SDK asked the backend once for a fresh token (fresh=1) and retried once; the API still said invalid_token. Check the API’s issuer and audience settings.',
        actions: [],
        refs: [],
      };
    case ERROR_CODES.TRANSPORT_ERROR:
      return {
        title: 'No answer',
        text: `${err.message}. Is npm run dev still running? An API on another origin must allow this page’s origin (CORS).`,
        actions: [],
        refs: [],
      };
    default:
      return { title: 'Unexpected answer', text: err.message, actions: [], refs };
  }
}

/** Why the AS refused: the persona's account policy when it denies what was asked, else the general case. */
function refusalWhy(wanted: Wanted, persona: Persona | undefined, who: string): string {
  const asked = (wanted.scope ?? '').split(' ').filter(Boolean);
  const denied = asked.filter((s) => persona?.denied_scopes?.includes(s));
  if (denied.length > 0) {
    return (
      `${who}'s account policy at the AS denies ${denied.join(', ')}, so the AS refuses the token and the backend ` +
      `relays its answer as it is (TMI-28). Ask without ${denied.join(', ')}, or switch persona.`
    );
  }
  return 'The backend relays the AS answer as it is (TMI-28). Ask for what your account is allowed, or switch persona.';
}
