/**
 * The walkthrough chapters inside the app. A link to `/docs/….md` opens the chapter in the docs
 * view, in place of the steps and next to the flow inspector, which keeps its history: following
 * the link would load another page and start the inspector over. The address becomes
 * `/?doc=walkthrough/01-login.md`, so Back, Forward and a reload land on the same chapter.
 *
 * The renderer (marked for the Markdown, mermaid for the diagrams) is a dynamic import, fetched
 * the first time a chapter opens: docs-render.ts.
 */
import { alert, byId, h, show } from './view.js';

const DOCS_PREFIX = '/docs/';

/** `walkthrough/01-login.md` for a same-origin link to a chapter, else undefined. */
export function chapterOf(url: URL, origin: string): string | undefined {
  if (url.origin !== origin) return undefined;
  if (url.pathname.startsWith(DOCS_PREFIX) && url.pathname.endsWith('.md')) {
    return decodeURIComponent(url.pathname.slice(DOCS_PREFIX.length));
  }
  if (url.pathname === '/' && url.searchParams.has('doc')) return url.searchParams.get('doc') ?? undefined;
  return undefined;
}

export function mountDocsView(doc: Document): void {
  const view = byId('docs-view');
  const article = byId('docs-article');
  const steps = byId('steps');
  let current: string | undefined;

  function close() {
    current = undefined;
    view.hidden = true;
    steps.hidden = false;
  }

  async function open(chapter: string, hash: string) {
    steps.hidden = true;
    view.hidden = false;
    if (chapter !== current) {
      current = chapter;
      view.setAttribute('aria-busy', 'true');
      show(article, h('p', {}, `Opening ${chapter}…`));
      try {
        const res = await fetch(`${DOCS_PREFIX}${chapter}`);
        if (!res.ok) throw new Error(`GET ${DOCS_PREFIX}${chapter} answered ${res.status}`);
        const markdown = await res.text();
        const { renderChapter } = await import('./docs-render.js');
        if (current !== chapter) return;
        await renderChapter(article, markdown, `${DOCS_PREFIX}${chapter}`);
      } catch (err) {
        show(
          article,
          alert({
            title: `Could not open ${chapter}`,
            text: `${(err as Error).message}. The backend serves the chapters from its docs folder (npm run dev does).`,
            actions: [],
            refs: [],
          }),
        );
      } finally {
        view.removeAttribute('aria-busy');
      }
    }
    const target = hash ? doc.getElementById(decodeURIComponent(hash.slice(1))) : null;
    (target ?? view).scrollIntoView({ block: 'start' });
    if (!target) doc.getElementById('docs-title')?.focus({ preventScroll: true });
  }

  /** The view follows the address: `/?doc=…` shows a chapter, anything else the steps. */
  function follow() {
    const chapter = chapterOf(new URL(location.href), location.origin);
    if (chapter) open(chapter, location.hash).catch(() => {});
    else close();
  }

  doc.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const link = (event.target as Element | null)?.closest?.('a[href]');
    if (!(link instanceof HTMLAnchorElement) || link.target) return;
    const url = new URL(link.href);
    const chapter = chapterOf(url, location.origin);
    if (!chapter) return;
    event.preventDefault();
    history.pushState(null, '', `/?doc=${encodeURIComponent(chapter)}${url.hash}`);
    open(chapter, url.hash).catch(() => {});
  });
  byId('docs-close').addEventListener('click', () => {
    history.pushState(null, '', '/');
    close();
  });
  window.addEventListener('popstate', follow);
  follow();
}
