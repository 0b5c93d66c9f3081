/**
 * Requests that Node's HTTP parser refuses before the AS sees them: a head over its size limit (a
 * 100 KB authorization request, a huge cookie, thousands of headers) or bytes that are not HTTP/1.1.
 * Node alone answers those with a bare status and no body; here the same status comes with a short
 * page that says what was wrong, under the pages' protective headers (page-security.ts).
 * `server.on('clientError', answerClientError)` (app.ts). The status, the message and the raw head
 * are @tmi-bff/koa's `answerParserRefusal`, shared with the reference backend's JSON error.
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
import type { Duplex } from 'node:stream';
import { answerParserRefusal } from '@tmi-bff/koa';

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  answerParserRefusal(err, socket, ({ reason, message }) => ({
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    },
    // The message as a sentence: capitalised, with its period.
    body: `<!doctype html><meta charset="utf-8"><title>${reason}</title><h1>Something went wrong</h1><p>${message.charAt(0).toUpperCase()}${message.slice(1)}.</p>`,
  }));
}
