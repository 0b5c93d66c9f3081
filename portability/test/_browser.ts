/**
 * A browser without a browser: a cookie jar (tough-cookie, RFC 6265), `fetch` that never follows
 * redirects, and the HTML forms of an AS's pages read and posted.
 */
import { CookieJar } from 'tough-cookie';

export class Browser {
  readonly jar = new CookieJar();

  /** One request, as a browser sends it: the jar's cookies, no redirect followed. */
  async fetch(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.jar.getCookieStringSync(target.href);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const header of res.headers.getSetCookie()) this.jar.setCookieSync(header, target.href);
    return res;
  }

  /** Posts an HTML form's fields to its action, as a form submission. */
  submit(form: HtmlForm, fields: Record<string, string> = {}, origin?: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (origin) headers.origin = origin;
    return this.fetch(form.action, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ ...form.fields, ...fields }).toString(),
    });
  }
}

/** A `<form method="post">` of a page: where it posts, and its hidden fields. */
export interface HtmlForm {
  action: URL;
  fields: Record<string, string>;
}

const htmlText = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The first POST form of `html` (served at `base`), or an error that shows the page. */
export function postForm(html: string, base: URL): HtmlForm {
  const form = /<form\b[^>]*\bmethod="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  const action = form && /\baction="([^"]*)"/i.exec(form[0]);
  if (!form || !action) throw new Error(`no form on the page at ${base.pathname}: ${html.slice(0, 400)}`);
  const fields: Record<string, string> = {};
  for (const input of form[1]?.matchAll(/<input\b[^>]*>/gi) ?? []) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const type = /\btype="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1];
    if (name && type === 'hidden') fields[name] = htmlText(value ?? '');
  }
  return { action: new URL(htmlText(action[1] ?? ''), base), fields };
}
