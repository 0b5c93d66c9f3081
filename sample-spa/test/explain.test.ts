/**
 * The advice after an error (src/explain.ts), per persona: the remediation of backend_not_ready
 * (D13) ends instead of offering the same thing again, and an AS refusal names the account policy
 * that caused it.
 */
import { BffResponseError } from '@tmi-bff/client';
import test from 'ava';
import { adviceContext, adviceFor, consentHref } from '../src/explain.js';
import type { Persona } from '../src/settings.js';

const B = 'http://localhost:4001/b';
const notReady = (remediation?: string) =>
  new BffResponseError(
    400,
    { error: 'backend_not_ready', error_description: 'not ready', remediation },
    new Response(),
  );
const carol: Persona = {
  username: 'carol',
  name: 'Carol Clark',
  persona: '',
  denied_scopes: [],
  refresh_tokens: false,
};
const bob: Persona = {
  username: 'bob',
  name: 'Bob Brown',
  persona: '',
  denied_scopes: ['stocks:buy'],
  refresh_tokens: true,
};

test.afterEach(() => {
  adviceContext.persona = undefined;
  adviceContext.consentedFor = undefined;
});

test.serial(
  'D13 (TMI-27): consent is offered once per resource; back from it and still not ready, the advice ends there',
  (t) => {
    const first = adviceFor(notReady('consent'), { resource: B, scope: 'b c' });
    t.deepEqual(
      first.actions.map((a) => a.label),
      ['Grant access'],
    );
    t.is(first.actions[0]?.href, consentHref({ resource: B, scope: 'b c' }));
    t.is(
      new URL(first.actions[0]?.href ?? '', 'http://x').searchParams.get('returnTo'),
      `/?after=consent&for=${encodeURIComponent(B)}`,
      'the way back names the resource consented to',
    );

    adviceContext.consentedFor = B;
    const again = adviceFor(notReady('consent'), { resource: B, scope: 'b c' });
    t.is(again.title, 'Still not ready after your consent (backend_not_ready)');
    t.regex(again.text, /Asking for the same consent again would only loop/);
    t.false(
      again.actions.some((a) => a.href.startsWith('/auth/consent')),
      'no second consent',
    );
    t.deepEqual(
      adviceFor(notReady('consent'), { resource: `${B}x` }).actions.map((a) => a.label),
      ['Grant access'],
      'another resource still gets its consent',
    );
  },
);

test.serial(
  'D13: without a refresh token by account policy (carol), the advice says so and offers another persona, not the same sign-in',
  (t) => {
    adviceContext.persona = carol;
    const advice = adviceFor(notReady('configuration'), { resource: B });
    t.regex(
      advice.text,
      /That is Carol Clark \(carol\)'s account policy at the AS: signing in again gives the same answer/,
    );
    t.deepEqual(
      advice.actions.map((a) => a.label),
      ['Switch persona (step 1)'],
    );
    adviceContext.persona = undefined;
    t.regex(adviceFor(notReady('configuration')).text, /offline_access in BFF_SCOPE/, 'with a real AS: the setting');
  },
);

test.serial('TMI-28: an AS refusal of a scope the persona’s policy denies names the policy (bob, stocks:buy)', (t) => {
  adviceContext.persona = bob;
  const refused = new BffResponseError(
    400,
    { error: 'invalid_scope', error_description: 'the account policy of this user does not allow: stocks:buy' },
    new Response(),
  );
  const advice = adviceFor(refused, { resource: 'http://localhost:4001/stocks', scope: 'stocks:read stocks:buy' });
  t.is(advice.title, 'The authorization server refused (invalid_scope)');
  t.regex(advice.text, /Bob Brown \(bob\)'s account policy at the AS denies stocks:buy.*Ask without stocks:buy/);
});
