/** DOM rendering only: no requests and no decisions here. */
import type { Ref } from './refs.js';

type Child = Node | string | false | null | undefined;

/** `h('p', { class: 'x' }, 'text', child)`: an element. Text is always set as text, never as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== false && c !== null && c !== undefined) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

export const json = (value: unknown) => h('pre', { class: 'json' }, JSON.stringify(value, null, 2));

export function links(refs: Ref[]): DocumentFragment {
  const frag = document.createDocumentFragment();
  refs.forEach((r, i) => {
    if (i) frag.append(' · ');
    const external = r.href.startsWith('http');
    frag.append(h('a', { href: r.href, ...(external ? { rel: 'noopener', target: '_blank' } : {}) }, r.label));
  });
  return frag;
}

/** A two-column list of names and values. */
export function facts(rows: Array<[string, Child]>): HTMLDListElement {
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function show(target: HTMLElement, ...content: Child[]): void {
  target.replaceChildren(...content.filter((c): c is Node | string => c !== false && c !== null && c !== undefined));
}

export interface Advice {
  title: string;
  text: string;
  actions: Ref[];
  refs: Ref[];
}

/** An error the way the app shows it: what happened, and what to do next. */
export function alert(advice: Advice): HTMLElement {
  return h(
    'div',
    { class: 'alert', role: 'alert' },
    h('strong', {}, advice.title),
    h('p', {}, advice.text),
    advice.actions.length > 0 &&
      h('p', { class: 'next' }, ...advice.actions.map((a) => h('a', { class: 'button', href: a.href }, a.label))),
    advice.refs.length > 0 && h('p', { class: 'refs' }, links(advice.refs)),
  );
}

/** Disables a button while its action runs, and marks the region busy. */
export async function busy<T>(button: HTMLButtonElement, region: HTMLElement, run: () => Promise<T>): Promise<T> {
  button.disabled = true;
  region.setAttribute('aria-busy', 'true');
  try {
    return await run();
  } finally {
    button.disabled = false;
    region.removeAttribute('aria-busy');
  }
}

/**
 * Puts one note per step (`#step-<id>`), after the step's first paragraph: what this persona will see
 * there. Without notes, removes them.
 */
export function stepNotes(who: string, notes: Record<string, string> | undefined): void {
  for (const section of document.querySelectorAll<HTMLElement>('section.step[id^="step-"]')) {
    const text = notes?.[section.id.slice('step-'.length)];
    let note = section.querySelector<HTMLElement>(':scope > .persona-note');
    if (!text) {
      note?.remove();
      continue;
    }
    if (!note) {
      note = h('p', { class: 'persona-note' });
      section.querySelector(':scope > p')?.after(note);
    }
    note.replaceChildren(h('strong', {}, `As ${who}: `), text);
  }
}

/** RFC 8693 §4.1: `act` names who acts now; a nested `act`, who acted before. Without it, the client acts itself. */
export function describeAct(act: unknown, clientId: unknown, sub: unknown): string {
  const actors: string[] = [];
  let current = act;
  while (current && typeof current === 'object' && 'sub' in current) {
    actors.push(String((current as { sub: unknown }).sub));
    current = (current as { act?: unknown }).act;
  }
  if (actors.length === 0) return `none: ${String(clientId)} asks for ${String(sub)} itself`;
  return `${actors[0]}${actors.length > 1 ? `, after ${actors.slice(1).join(', after ')}` : ''}, for ${String(sub)}`;
}
