/**
 * Requests that Node's HTTP parser refuses before any route sees them: a head over its size limit
 * (a 100 KB query string, a huge cookie, thousands of headers) or bytes that are not HTTP/1.1. Node
 * alone answers those with a bare status and no body; here they get the same status with the
 * endpoints' JSON error (D6: `{ error, error_description }`, no-store), naming the limit and its
 * setting. `server.on('clientError', answerClientError)` (server.ts). The status, the message and
 * the raw head are @tmi-bff/koa's `answerParserRefusal`, shared with the mock AS's page.
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 */

import type { Duplex } from 'node:stream';
import { answerParserRefusal } from '@tmi-bff/koa';

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  answerParserRefusal(err, socket, ({ message }) => ({
    headers: {
      'Content-Type': 'application/json;charset=UTF-8',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    },
    body: JSON.stringify({ error: 'invalid_request', error_description: message }),
  }));
}
