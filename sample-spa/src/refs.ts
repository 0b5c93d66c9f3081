/**
 * Where each step and each exchange is explained: its walkthrough chapter (served by the backend
 * under /docs/) and the spec section that governs it.
 */

export interface Ref {
  label: string;
  href: string;
}

const DRAFT = 'https://datatracker.ietf.org/doc/html/draft-bertocci-oauth2-tmi-bff-01';
const doc = (chapter: string, label: string): Ref => ({
  label: `Walkthrough: ${label}`,
  href: `/docs/walkthrough/${chapter}`,
});
const draft = (section: string, label = ''): Ref => ({
  label: `TMI-BFF-01 §${section}${label ? ` ${label}` : ''}`,
  href: `${DRAFT}#section-${section}`,
});
const rfc = (n: number, section: string, label: string): Ref => ({
  label: `RFC ${n} §${section} ${label}`,
  href: `https://www.rfc-editor.org/rfc/rfc${n}.html#section-${section}`,
});

export const REFS = {
  'sign-in': [doc('01-login.md', 'sign-in'), draft('1.2', '(topology)'), rfc(7636, '4', '(PKCE)')],
  sessioninfo: [doc('02-bff-sessioninfo.md', 'bff-sessioninfo'), draft('5')],
  token: [
    doc('03-bff-token.md', 'bff-token'),
    draft('4.1', '(request)'),
    draft('4.2', '(response)'),
    rfc(8707, '2', '(resource)'),
  ],
  api: [doc('05-token-chain.md', 'the demo APIs'), rfc(6750, '2.1', '(bearer)'), rfc(9068, '2', '(JWT access tokens)')],
  errors: [doc('03-bff-token.md', 'errors'), draft('4.3'), draft('4.3.1'), draft('4.3.2'), draft('4.3.3')],
  chain: [doc('05-token-chain.md', 'the token chain'), rfc(8693, '2.1', '(token exchange)'), rfc(8693, '4.1', '(act)')],
  'sign-out': [doc('04-logout.md', 'sign-out'), rfc(7009, '2', '(revocation)')],
} satisfies Record<string, Ref[]>;

export type RefKey = keyof typeof REFS;

/** The section of the draft that defines a bff-token error code. */
export function errorRef(error: string): Ref {
  if (error === 'invalid_session') return draft('4.3.1', '(invalid_session)');
  if (error === 'backend_not_ready') return draft('4.3.2', '(backend_not_ready)');
  if (error === 'temporarily_unavailable' || error === 'invalid_request') {
    return { label: `Profile extension (${error})`, href: '/docs/deviations.md' };
  }
  return draft('4.3.3', '(AS errors, relayed)');
}
