/**
 * The walkthrough chapters inside the sample SPA (src/docs-view.ts, src/docs-render.ts), in a real
 * Chromium under the page's Content-Security-Policy: rendered Markdown, Mermaid diagrams as SVG,
 * links between chapters that stay in the app, and a flow inspector that keeps its history.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { browserTest, openBrowser, screenshot } from './_browser.js';
import { startDemo } from './_stack.js';
import { signIn, waitForText } from './_walk.js';

const DOCS = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'docs');

/** Two chapters: one with a sequence diagram and a link to the other, which links back. */
async function fixtureDocs(t: ExecutionContext): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tmi-bff-docs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'walkthrough'));
  await writeFile(
    join(root, 'walkthrough', '01-login.md'),
    [
      '# 1. Sign-in',
      '',
      'The browser goes to the backend, which sends it on to the AS. Next: [bff-sessioninfo](02-bff-sessioninfo.md#on-the-wire).',
      '',
      '```mermaid',
      'sequenceDiagram',
      '  participant B as Browser',
      '  participant S as Backend',
      '  B->>S: GET /auth/login',
      '  S-->>B: 303 to the authorization endpoint',
      '```',
      '',
      'Code: [login.ts](../../reference-backend/src/oauth/login.ts)',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(root, 'walkthrough', '02-bff-sessioninfo.md'),
    '# 2. bff-sessioninfo\n\n## On the wire\n\nBack to [sign-in](01-login.md).\n',
  );
  return root;
}

browserTest(
  'a walkthrough link opens its chapter inside the SPA, beside the inspector: Markdown rendered, the Mermaid diagram drawn as SVG under the page CSP, links between chapters kept in the app, and the inspector keeps its history',
  async (t) => {
    const demo = await startDemo(t, { docsDir: await fixtureDocs(t) });
    const { page, problems } = await openBrowser(t);
    await page.goto(`${demo.origin}/`);
    await signIn(page, demo, { username: 'alice' });
    await waitForText(page, '#exchanges', '/.well-known/bff-sessioninfo → 200');
    const entries = await page.locator('#exchanges > li').count();
    t.true(entries >= 2, `the inspector holds ${entries} entries`);
    // A mark on this page's window: a page load would lose it.
    await page.evaluate(() => {
      document.documentElement.dataset.loadedOnce = 'yes';
    });

    await page.click('#step-sign-in .refs a:has-text("Walkthrough: sign-in")');
    await page.waitForSelector('#docs-article .diagram svg');
    t.true(await page.isHidden('#steps'), 'the chapter takes the place of the steps');
    t.true(await page.isVisible('#inspector'), 'the inspector stays beside it');
    t.is(await page.textContent('#docs-article h1'), '1. Sign-in');
    t.is(new URL(page.url()).search, '?doc=walkthrough%2F01-login.md');
    const diagram = await page.textContent('#docs-article .diagram svg');
    t.regex(diagram ?? '', /Browser.*Backend.*GET \/auth\/login.*303 to the authorization endpoint/s);
    t.falsy(await page.$('#docs-article pre code.language-mermaid'), 'no diagram is left as source');
    t.is(
      await page.getAttribute('#docs-article a:has-text("login.ts")', 'title'),
      'In the repository: reference-backend/src/oauth/login.ts',
      'a file the backend does not serve is named, not linked',
    );
    await screenshot(page, '20-docs-view');

    // Between chapters, still inside the app: the anchor, then back to the first chapter.
    await page.click('#docs-article a:has-text("bff-sessioninfo")');
    await waitForText(page, '#docs-article h1', '2. bff-sessioninfo');
    t.is(new URL(page.url()).hash, '#on-the-wire');
    t.truthy(await page.$('#docs-article h2#on-the-wire'));
    await page.goBack();
    await page.waitForSelector('#docs-article .diagram svg');
    await page.click('#docs-close');
    t.true(await page.isVisible('#steps'));
    t.is(new URL(page.url()).search, '');

    t.is(
      await page.evaluate(() => document.documentElement.dataset.loadedOnce),
      'yes',
      'no page load: the app never left',
    );
    t.is(await page.locator('#exchanges > li').count(), entries, 'the inspector kept its history');
    await waitForText(page, '#who', 'Alice Adams');

    // Raw Markdown never shows in a tab: a chapter opened as a page lands in the app's docs view.
    await page.goto(`${demo.origin}/docs/walkthrough/02-bff-sessioninfo.md`);
    await waitForText(page, '#docs-article h1', '2. bff-sessioninfo');
    t.is(new URL(page.url()).search, '?doc=walkthrough%2F02-bff-sessioninfo.md');
    t.deepEqual(problems, [], 'no script error and no CSP violation');
  },
);

browserTest(
  "every chapter the SPA links to opens inside it, each of its Mermaid blocks drawn as SVG (the repository's docs/)",
  async (t) => {
    const demo = await startDemo(t);
    const { page, problems } = await openBrowser(t);
    await page.goto(`${demo.origin}/`);
    await waitForText(page, '#who', 'Not signed in');
    const chapters = await page.$$eval('a[href^="/docs/"]', (links) => [
      ...new Set(links.map((a) => new URL((a as HTMLAnchorElement).href).pathname.slice('/docs/'.length))),
    ]);
    t.true(chapters.length >= 4, `the page links to ${chapters.join(', ')}`);
    let drawn = 0;
    for (const chapter of chapters) {
      await page.click(`a[href="/docs/${chapter}"] >> nth=0`);
      await page.waitForFunction(
        (c) =>
          new URLSearchParams(location.search).get('doc') === c && !document.querySelector('#docs-view[aria-busy]'),
        chapter,
      );
      const markdown = await readFile(join(DOCS, chapter), 'utf8');
      const blocks = markdown.match(/^```mermaid$/gm)?.length ?? 0;
      t.is(await page.locator('#docs-article .diagram svg').count(), blocks, `${chapter}: ${blocks} diagrams`);
      t.is(await page.locator('#docs-article .diagram .failed').count(), 0, `${chapter}: every diagram parses`);
      t.truthy(await page.textContent('#docs-article h1'), `${chapter} has its title`);
      // A picture of the first chapter with diagrams, as a reader sees it.
      if (blocks && !drawn) await screenshot(page, `21-chapter-${chapter.replace(/\W+/g, '-')}`);
      drawn += blocks;
      await page.click('#docs-close');
    }
    t.log(`${chapters.length} chapters, ${drawn} diagrams drawn`);
    t.deepEqual(problems, []);
  },
);
