/**
 * What the signed-in persona will see at each step, and why, said before the reader clicks. It comes
 * from the persona's account policy in the mock AS's seed (the scopes the AS refuses the user, and
 * whether the AS gives the backend a refresh token), which the backend puts into the page with the
 * rest of the settings. Edit the seed, and these notes follow.
 */
import type { Persona, ResourceSetting, Settings } from './settings.js';

/** The steps of the page, by the id of their section (`#step-<id>`). */
export type StepId = 'sign-in' | 'who' | 'token' | 'api' | 'errors' | 'chain' | 'sign-out';

export function personaOf(settings: Settings, sub: unknown): Persona | undefined {
  return settings.personas.find((p) => p.username === sub);
}

/** The scopes of `resource` the AS lets this persona hold. */
export function allowedScopes(persona: Persona | undefined, resource: ResourceSetting | undefined): string[] {
  const denied = new Set(persona?.denied_scopes ?? []);
  return Object.keys(resource?.scopes ?? {}).filter((s) => !denied.has(s));
}

/** The downscoping demo: a resource sign-in asked for, with two scopes or more this persona may hold. */
export interface DownscopeDemo {
  resource: ResourceSetting;
  /** What the app holds first. */
  held: string;
  /** What it asks for then: the first of those scopes alone. */
  narrow: string;
}

export function downscopeDemo(settings: Settings, persona: Persona | undefined): DownscopeDemo | undefined {
  for (const resource of settings.resources.filter((r) => r.atSignIn)) {
    const scopes = allowedScopes(persona, resource);
    if (scopes.length >= 2 && scopes.length === Object.keys(resource.scopes).length) {
      return { resource, held: scopes.join(' '), narrow: scopes[0] as string };
    }
  }
  return undefined;
}

const list = (items: string[]) => items.join(', ');

/** One sentence or two per step: what this persona will see, and why. */
export function stepNotes(settings: Settings, persona: Persona): Record<StepId, string> {
  const who = persona.name || persona.username;
  const denied = persona.denied_scopes ?? [];
  const stocks = settings.resources.find((r) => 'stocks:buy' in r.scopes);
  const chainScopes = Object.keys(settings.resources.find((r) => r.atSignIn && 'a' in r.scopes)?.scopes ?? {});
  const refuser = settings.personas.find((p) => p.denied_scopes?.includes('stocks:buy'))?.username;

  if (persona.refresh_tokens === false) {
    const why = `the AS gives the backend no refresh token at ${persona.username}'s sign-in (account policy), so the backend has nothing to get access tokens with`;
    return {
      'sign-in': `${who} signs in like anyone, but ${why}. Signing in again changes nothing: switch persona to see tokens.`,
      who: `bff-sessioninfo answers ${who}'s claims, and adds tokens_unavailable (backend_not_ready): the backend already knows it cannot get tokens for this session.`,
      token: `Every token request answers backend_not_ready (remediation: configuration): ${why}. The app says so and offers to switch persona, not to sign in again.`,
      api: 'No API call is made: the SDK first asks bff-token for a token, which answers backend_not_ready.',
      errors:
        'No session and No CSRF header are refused as for anyone (invalid_session). Every other button answers backend_not_ready, for the same reason as step 3.',
      chain: 'The chain starts with a token for Service A, which bff-token cannot give: backend_not_ready.',
      'sign-out': `As for anyone: the backend forgets the session (there is no refresh token to revoke) and the AS ends its own.`,
    };
  }

  const demo = downscopeDemo(settings, persona);
  const downscope = demo
    ? `The downscoping demo holds ${demo.held} for ${demo.resource.name}, then asks for ${demo.narrow} alone: the backend refreshes with the narrower scope.`
    : 'No resource lets this persona hold two scopes, so the downscoping demo shows a refusal.';
  const deniedHere = denied.filter((s) => s in (stocks?.scopes ?? {}));
  const chainDenied = chainScopes.filter((s) => denied.includes(s));
  return {
    'sign-in':
      denied.length > 0
        ? `${who}'s account policy at the AS denies ${list(denied)}: asking for it is refused with invalid_scope.`
        : `${who} is entitled to every scope, and the AS gives the backend a refresh token.`,
    who: `bff-sessioninfo answers ${who}'s claims from the ID token. The account policy is not among them: the AS applies it when the backend asks for tokens.`,
    token:
      (deniedHere.length > 0
        ? `${list(deniedHere)} start${deniedHere.length > 1 ? '' : 's'} unchecked: the AS refuses ${list(deniedHere)} to ${persona.username}. Check it to see the refusal (invalid_scope, relayed by the backend). `
        : 'Every token request succeeds: ask twice and the second answer comes from the SDK’s memory. ') + downscope,
    api:
      deniedHere.length > 0
        ? `The quotes and the portfolio work. Buying needs ${list(deniedHere)}: the AS refuses that token (invalid_scope), so no order is placed; the Service A token is rejected by Stocks as for anyone (D11).`
        : 'Every call works, buying included; the Service A token is rejected by Stocks, then retried once with a fresh token (D11).',
    errors:
      (deniedHere.includes('stocks:buy')
        ? `“AS refusal: stocks:buy” is refused for ${persona.username}: the refusal that button is there to show. `
        : `${who} may buy: “AS refusal: stocks:buy” gets a token${refuser ? `; sign in as ${refuser} to see the refusal` : ''}. `) +
      'Backend not ready (Service B): sign-in did not ask for Service B, so the backend answers backend_not_ready with remediation consent; grant access, and the same request gets a token.',
    chain:
      chainDenied.length > 0
        ? `The chain needs ${list(chainScopes)} for Service A, and the AS refuses ${list(chainDenied)} to ${persona.username}: it stops at the first token.`
        : `Each hop narrows the scopes (${list(chainScopes)}, then fewer), names the next service as its audience, and records who acts (act).`,
    'sign-out':
      'The backend revokes the refresh token at the AS, forgets the session, and sends you to the AS to end its session too. “No, stay signed in” there keeps the AS session: Sign in then returns as the same persona, and Switch persona asks again.',
  };
}
