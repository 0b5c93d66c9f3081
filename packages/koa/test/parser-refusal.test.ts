/**
 * parserRefusal and answerParserRefusal: Node's status and a message per parser error code, and the
 * raw answer a `clientError` listener writes with them, over a real loopback server and a bare socket.
 */
import { once } from 'node:events';
import { createServer, maxHeaderSize } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Duplex } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { answerParserRefusal, type ParserRefusal, parserRefusal, type RefusalAnswer } from '../src/index.js';

/** A body of the caller's kind; its `…` is three bytes in UTF-8, so Content-Length must count bytes. */
const TEXT = (refusal: ParserRefusal): RefusalAnswer => ({
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  body: `${refusal.status}: ${refusal.message} …`,
});

test('a head over the parser limit is 431, and the message names the limit and what to send instead', (t) => {
  t.deepEqual(parserRefusal('HPE_HEADER_OVERFLOW'), {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: `the request line and headers are over ${maxHeaderSize} bytes (Node's --max-http-header-size): send a shorter URL, fewer cookies or fewer headers`,
  });
});

test('a request not received in time is 408', (t) => {
  t.deepEqual(parserRefusal('ERR_HTTP_REQUEST_TIMEOUT'), {
    status: 408,
    reason: 'Request Timeout',
    message: 'the request was not received in time',
  });
});

test('any other parser error, or none, is 400: the request is not valid HTTP/1.1', (t) => {
  const notHttp = { status: 400, reason: 'Bad Request', message: 'the request is not valid HTTP/1.1' };
  for (const code of ['HPE_INVALID_METHOD', 'HPE_INVALID_HEADER_TOKEN', 'HPE_LF_EXPECTED', 'toString', undefined]) {
    t.deepEqual(parserRefusal(code), notHttp, String(code));
  }
});

test('every message is an error_description: RFC 6749 §5.2 characters only, lower case first, no final period', (t) => {
  for (const code of ['HPE_HEADER_OVERFLOW', 'ERR_HTTP_REQUEST_TIMEOUT', undefined]) {
    const { message } = parserRefusal(code);
    t.regex(message, /^[a-z][\x20\x21\x23-\x5b\x5d-\x7e]*[^.]$/, String(code));
  }
});

/** A loopback server whose clientError listener is answerParserRefusal with `render`. */
async function serve(t: ExecutionContext, render: (refusal: ParserRefusal) => RefusalAnswer): Promise<number> {
  const server = createServer((_req, res) => res.end('ok'));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerParserRefusal(err, socket, render));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });
  return (server.address() as AddressInfo).port;
}

/** Sends `raw` and resolves with what came back once the server has closed the connection. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may close while a large head is still being sent: what it sent before is the answer.
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.end(raw, 'latin1');
  });
}

test('a head over the limit gets the 431 status line, the rendered headers, its Content-Length, Connection: close and the body', async (t) => {
  const port = await serve(t, TEXT);
  const answer = await exchange(port, `GET /?q=${'x'.repeat(100 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const [head = '', body] = answer.split('\r\n\r\n');
  const expected = TEXT(parserRefusal('HPE_HEADER_OVERFLOW')).body;
  t.deepEqual(head.split('\r\n'), [
    'HTTP/1.1 431 Request Header Fields Too Large',
    'Content-Type: text/plain; charset=utf-8',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(expected)}`,
    'Connection: close',
  ]);
  t.is(body, expected);
});

test('bytes that are not HTTP/1.1 get the 400 with the rendered body', async (t) => {
  const port = await serve(t, TEXT);
  const answer = await exchange(port, 'HELLO\r\n\r\n');
  t.true(answer.startsWith('HTTP/1.1 400 Bad Request\r\n'), answer);
  t.true(answer.endsWith('\r\n\r\n400: the request is not valid HTTP/1.1 …'), answer);
});

/** A socket that records what is written to it and whether it was destroyed. */
function recordingSocket(options: { writable?: boolean; headersSent?: boolean } = {}) {
  const written: string[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString('latin1'));
      done();
    },
  });
  if (options.writable === false) socket.end();
  if (options.headersSent) Object.assign(socket, { _httpMessage: { headersSent: true } });
  return { socket, written };
}

test('a connection reset, a socket no longer writable, or a response already begun is only closed', (t) => {
  const cases: Array<[string, NodeJS.ErrnoException, ReturnType<typeof recordingSocket>]> = [
    ['reset', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), recordingSocket()],
    [
      'not writable',
      Object.assign(new Error('parse'), { code: 'HPE_INVALID_METHOD' }),
      recordingSocket({ writable: false }),
    ],
    [
      'begun',
      Object.assign(new Error('parse'), { code: 'HPE_INVALID_METHOD' }),
      recordingSocket({ headersSent: true }),
    ],
  ];
  for (const [what, err, { socket, written }] of cases) {
    let rendered = false;
    answerParserRefusal(err, socket, (refusal) => {
      rendered = true;
      return TEXT(refusal);
    });
    t.true(socket.destroyed, what);
    t.false(rendered, what);
    t.deepEqual(written, [], what);
  }
});

test('a rendered header that is not a token, or a value with CR or LF, throws a coded TypeError and writes nothing', (t) => {
  const err = Object.assign(new Error('parse'), { code: 'HPE_INVALID_METHOD' });
  const bad: Array<[Record<string, string>, string]> = [
    [{ 'Bad Name': 'x' }, 'ERR_INVALID_HTTP_TOKEN'],
    [{ 'X-Ok': 'a\r\nX-Injected: yes' }, 'ERR_INVALID_CHAR'],
    [{ 'X-Ok': 'a\nb' }, 'ERR_INVALID_CHAR'],
  ];
  for (const [headers, code] of bad) {
    const { socket, written } = recordingSocket();
    t.throws(() => answerParserRefusal(err, socket, () => ({ headers, body: '' })), { instanceOf: TypeError, code });
    t.deepEqual(written, []);
  }
});
