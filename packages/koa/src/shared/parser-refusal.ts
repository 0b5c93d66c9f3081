/**
 * Requests that Node's HTTP parser refuses before any route sees them: a head over its size limit (a
 * 100 KB query string, a huge cookie, thousands of headers), bytes that are not HTTP/1.1, or a
 * request that does not arrive in time. Node alone answers those with a bare status and no body. A
 * server's `clientError` listener answers them here with the same status, and a body of its own kind:
 * the endpoints' JSON error at the reference backend, a page at the mock AS. Each passes the body;
 * the status, the head and when not to answer at all are decided once, here.
 *
 *   server.on('clientError', (err, socket) =>
 *     answerParserRefusal(err, socket, ({ message }) => ({ headers: { … }, body: … })));
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 */
import { maxHeaderSize, validateHeaderName, validateHeaderValue } from 'node:http';
import type { Duplex } from 'node:stream';

/** What the client is told about a request the parser refused. */
export interface ParserRefusal {
  /** Node's own status for it (lib/_http_server.js `socketOnError`). */
  status: number;
  /** The status's reason phrase, for the status line. */
  reason: string;
  /** What was wrong (and what to do): one sentence, lower case, no final period, as an `error_description`. */
  message: string;
}

/** The body a server sends with a refusal, and the headers that describe it (its type, its caching). */
export interface RefusalAnswer {
  headers: Record<string, string>;
  body: string;
}

/** Node's own status per parser error code; every other code is a request that is not HTTP/1.1. */
const REFUSALS: Readonly<Record<string, ParserRefusal>> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: `the request line and headers are over ${maxHeaderSize} bytes (Node's --max-http-header-size): send a shorter URL, fewer cookies or fewer headers`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', message: 'the request was not received in time' },
};
const NOT_HTTP: ParserRefusal = { status: 400, reason: 'Bad Request', message: 'the request is not valid HTTP/1.1' };

/** The status and message for a parser error's `code`. */
export function parserRefusal(code: string | undefined): ParserRefusal {
  return (code !== undefined && Object.hasOwn(REFUSALS, code) ? REFUSALS[code] : undefined) ?? NOT_HTTP;
}

/**
 * Answers a parser refusal on the raw socket and closes it: the status line, the `render`ed headers
 * (each checked as Node checks a header: a programmer error throws a coded TypeError, and no value
 * can split the head), `Content-Length`, `Connection: close`, then the body. A socket that is gone,
 * or whose response has begun, is only closed, as Node does.
 */
export function answerParserRefusal(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  render: (refusal: ParserRefusal) => RefusalAnswer,
): void {
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const refusal = parserRefusal(err.code);
  const { headers, body } = render(refusal);
  let head = `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  socket.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
