/**
 * The "Scenario knobs" panel: buttons for the backend's development-only admin API (`/_mock`, see
 * reference-backend/src/admin.ts), shown only when the backend is in mock mode, which it says with a
 * `<meta name="tmi-bff-mock">` tag in the page's head. Each knob makes a fault the app must handle:
 * try a step above after turning one.
 */
import { byId, facts, h, json, show } from './view.js';

/** D4: the header the backend's CSRF defence asks for (the SDK sends it on its own calls). */
const CSRF_HEADER = 'TMI-BFF-CSRF';

export interface KnobOptions {
  /** The recording fetch of the flow inspector, so the knobs' calls show there too. */
  fetch: typeof fetch;
  /** The personas to offer for a switch (usernames). */
  personas: string[];
  /** Told after a knob changed the session (a new persona, a shorter life). */
  onSessionChange: () => void;
}

/** The admin API's base path, when the backend is in mock mode. */
export function mockBase(doc: Document): string | undefined {
  return doc.querySelector<HTMLMetaElement>('meta[name="tmi-bff-mock"]')?.content || undefined;
}

export function mountScenarioKnobs(doc: Document, options: KnobOptions): boolean {
  const base = mockBase(doc);
  if (!base) return false;
  const section = byId('step-knobs');
  const out = byId('knobs-result');
  const state = byId('knobs-state');
  section.hidden = false;
  byId('knob-persona-name').append(...options.personas.map((p) => h('option', { value: p }, p)));

  async function call(path: string, body?: Record<string, unknown>): Promise<unknown> {
    const res = await options.fetch(`${base}${path}`, {
      method: body ? 'POST' : 'GET',
      // D4: the admin API has the endpoints' CSRF defence.
      headers: { [CSRF_HEADER]: '1', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const answer: unknown = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(`${path}: ${res.status}`), { answer });
    return answer;
  }

  async function refresh(): Promise<void> {
    try {
      const now = (await call('/state')) as {
        session: { sub?: string; remaining_seconds?: number } | null;
        as: { down: boolean; fail: Record<string, unknown> | null };
      };
      show(
        state,
        facts([
          ['session', now.session ? `${now.session.sub}, ${now.session.remaining_seconds ?? '?'} s left` : 'none'],
          ['authorization server', now.as.down ? 'down' : 'up'],
          ['pending token failures', now.as.fail ? JSON.stringify(now.as.fail) : 'none'],
        ]),
      );
    } catch (err) {
      show(state, json((err as { answer?: unknown }).answer ?? String(err)));
    }
  }

  /** Wires a button to a knob; the answer, or the error, shows in the panel. */
  function knob(buttonId: string, path: string, body: () => Record<string, unknown>, sessionChanges = false) {
    const button = byId<HTMLButtonElement>(buttonId);
    button.addEventListener('click', async () => {
      button.disabled = true;
      out.setAttribute('aria-busy', 'true');
      try {
        show(out, h('p', {}, `${button.textContent}: done`), json(await call(path, body())));
        if (sessionChanges) options.onSessionChange();
      } catch (err) {
        show(
          out,
          h('div', { class: 'alert', role: 'alert' }, json((err as { answer?: unknown }).answer ?? String(err))),
        );
      } finally {
        button.disabled = false;
        out.removeAttribute('aria-busy');
        await refresh();
      }
    });
  }

  const value = (id: string) => byId<HTMLInputElement | HTMLSelectElement>(id).value;
  const optional = (id: string) => (value(id) === '' ? undefined : Number(value(id)));
  knob('knob-expire', '/session/expire-tokens', () => ({}));
  knob('knob-lifetime', '/session/lifetime', () => ({ seconds: Number(value('knob-seconds')) }), true);
  knob('knob-revoke', '/session/revoke-grant', () => ({}));
  knob('knob-persona', '/session/persona', () => ({ persona: value('knob-persona-name') }), true);
  knob('knob-fail', '/as/fail', () => {
    const error = value('knob-error');
    return {
      count: Number(value('knob-count')),
      ...(error ? { error } : {}),
      ...(optional('knob-status') !== undefined ? { status: optional('knob-status') } : {}),
      ...(optional('knob-delay') !== undefined ? { delayMs: optional('knob-delay') } : {}),
    };
  });
  knob('knob-down', '/as/down', () => ({}));
  knob('knob-up', '/as/up', () => ({}));
  byId('knob-refresh').addEventListener('click', () => void refresh());
  void refresh();
  return true;
}
