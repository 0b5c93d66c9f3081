/**
 * A walkthrough chapter rendered for the docs view (docs-view.ts), which imports this file only when
 * a chapter first opens, so marked and mermaid stay out of the app's first load.
 *
 * The chapters come from this repository, served by the backend; the page's Content-Security-Policy
 * lets no inline script run, whatever a chapter holds. Mermaid draws each diagram with one `<style>`
 * element: the backend's policy allows it with the nonce of this page (reference-backend/src/spa.ts
 * `diagramStyles`), which this file puts on it.
 */
import { marked } from 'marked';
import mermaid from 'mermaid';

const STYLE_NONCE_META = 'tmi-bff-style-nonce';

let diagrams = 0;
let initialized = false;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes. */
export function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Links resolved against the chapter's own address; what the backend does not serve loses its link. */
function fixLinks(root: DocumentFragment, chapterPath: string): void {
  const base = new URL(chapterPath, location.origin);
  for (const a of root.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    const raw = a.getAttribute('href') ?? '';
    if (raw.startsWith('#')) continue;
    const url = new URL(raw, base);
    if (url.origin !== location.origin) {
      a.target = '_blank';
      a.rel = 'noopener';
    } else if (url.pathname.startsWith('/docs/') && url.pathname.endsWith('.md')) {
      a.href = `${url.pathname}${url.hash}`;
    } else {
      // A file of the repository (source, tests): named, not served.
      a.removeAttribute('href');
      a.title = `In the repository: ${url.pathname.slice(1)}`;
    }
  }
  for (const img of root.querySelectorAll<HTMLImageElement>('img[src]')) {
    img.src = new URL(img.getAttribute('src') ?? '', base).href;
  }
}

async function drawDiagram(source: string, nonce: string): Promise<DocumentFragment> {
  if (!initialized) {
    // 'loose' skips mermaid's own re-parse of the SVG (which the page's policy reports for its
    // <style>); the policy, not the sanitizer, is what keeps scripts out.
    mermaid.initialize({ startOnLoad: false, securityLevel: 'loose', theme: 'neutral' });
    initialized = true;
  }
  // Mermaid creates its <style> with document.createElement while it draws: give it the nonce.
  const create = document.createElement;
  document.createElement = function createWithNonce(this: Document, tag: string, options?: ElementCreationOptions) {
    const el = create.call(this, tag, options);
    if (tag.toLowerCase() === 'style') el.setAttribute('nonce', nonce);
    return el;
  } as typeof document.createElement;
  let svg: string;
  try {
    ({ svg } = await mermaid.render(`diagram-${++diagrams}`, source));
  } finally {
    document.createElement = create;
  }
  const template = document.createElement('template');
  template.innerHTML = svg;
  // Serialised, the nonce reads empty (browsers hide it): set it again before the SVG goes in.
  for (const style of template.content.querySelectorAll('style')) style.setAttribute('nonce', nonce);
  return template.content;
}

/** Renders `markdown` (the chapter at `chapterPath`, e.g. /docs/walkthrough/01-login.md) into `target`. */
export async function renderChapter(target: HTMLElement, markdown: string, chapterPath: string): Promise<void> {
  const nonce = document.querySelector<HTMLMetaElement>(`meta[name="${STYLE_NONCE_META}"]`)?.content ?? '';
  const template = document.createElement('template');
  template.innerHTML = await marked.parse(markdown, { gfm: true });
  const root = template.content;
  for (const heading of root.querySelectorAll<HTMLHeadingElement>('h1, h2, h3, h4')) {
    heading.id = slug(heading.textContent ?? '');
  }
  const first = root.querySelector('h1');
  if (first) first.id = 'docs-title';
  first?.setAttribute('tabindex', '-1');
  fixLinks(root, chapterPath);

  // Each ```mermaid block becomes its diagram; one that does not parse keeps its source, with the error.
  for (const code of root.querySelectorAll<HTMLElement>('pre > code.language-mermaid')) {
    const pre = code.parentElement as HTMLElement;
    const figure = document.createElement('figure');
    figure.className = 'diagram';
    pre.replaceWith(figure);
    try {
      figure.append(await drawDiagram(code.textContent ?? '', nonce));
    } catch (err) {
      const p = document.createElement('p');
      p.className = 'failed';
      p.textContent = `This diagram does not parse: ${(err as Error).message}`;
      figure.append(p, pre);
    }
  }
  target.replaceChildren(root);
  if (!first) {
    const title = document.createElement('h1');
    title.id = 'docs-title';
    title.tabIndex = -1;
    title.textContent = chapterPath;
    target.prepend(title);
  }
}
