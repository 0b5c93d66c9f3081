/**
 * Requests that Node's HTTP parser refuses before any route sees them: a head over its size limit
 * (a 100 KB query string, a huge cookie, thousands of headers) or bytes that are not HTTP/1.1. Node
 * alone answers those with a bare status and no body; here they get the same status with the
 * endpoints' JSON error (D6: `{ error, error_description }`, no-store), naming the limit and its
 * setting. `server.on('clientError', answerClientError)` (server.ts).
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's own choice of status per parser error (lib/_http_server.js), and what to tell the client. */
function refusal(code: string | undefined): { status: number; reason: string; description: string } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      reason: 'Request Header Fields Too Large',
      description: `the request line and headers are over ${maxHeaderSize} bytes (Node's --max-http-header-size): send a shorter URL, fewer cookies or fewer headers`,
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, reason: 'Request Timeout', description: 'the request was not received in time' };
  }
  return { status: 400, reason: 'Bad Request', description: 'the request is not valid HTTP/1.1' };
}

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node does: a socket that is gone, or whose answer has begun, is only closed.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const { status, reason, description } = refusal(err.code);
  const body = JSON.stringify({ error: 'invalid_request', error_description: description });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json;charset=UTF-8\r\n' +
      'Cache-Control: no-store\r\nPragma: no-cache\r\nX-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
