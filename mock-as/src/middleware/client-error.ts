/**
 * Requests that Node's HTTP parser refuses before the AS sees them: a head over its size limit (a
 * 100 KB authorization request, a huge cookie, thousands of headers) or bytes that are not HTTP/1.1.
 * Node alone answers those with a bare status and no body; here the same status comes with a short
 * page that says what was wrong, under the pages' protective headers (page-security.ts).
 * `server.on('clientError', answerClientError)` (app.ts).
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's own choice of status per parser error (lib/_http_server.js), and what the page says. */
function refusal(code: string | undefined): [status: number, reason: string, message: string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [
      431,
      'Request Header Fields Too Large',
      `The request line and headers are over ${maxHeaderSize} bytes (Node's --max-http-header-size).`,
    ];
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout', 'The request was not received in time.'];
  return [400, 'Bad Request', 'The request is not valid HTTP/1.1.'];
}

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node does: a socket that is gone, or whose answer has begun, is only closed.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = refusal(err.code);
  const page = `<!doctype html><meta charset="utf-8"><title>${reason}</title><h1>Something went wrong</h1><p>${message}</p>`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: text/html; charset=utf-8\r\n' +
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'\r\n" +
      'X-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(page)}\r\nConnection: close\r\n\r\n${page}`,
  );
}
