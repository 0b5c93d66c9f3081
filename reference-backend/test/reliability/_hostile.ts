/**
 * Clients for the hostile-input tests: a keep-alive HTTP client that sends any header value Node
 * lets through (fetch would normalise or refuse many), and a raw socket (node:net) for the bytes no
 * HTTP client sends at all: CR, LF and NUL in a request line or header, or a response read as bytes
 * to see whether a reflected value split it. The fuzzing tests' generators are in
 * `@tmi-bff/mock-as/testing/fuzz`.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names and values as sent, in order (names as the server spelled them). */
  rawHeaders: string[];
  body: string;
}

export interface Outgoing {
  method: string;
  /** Path and query, sent as they are. */
  path: string;
  /** Header name → value, or several values for a header sent more than once. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** An HTTP/1.1 client over a few kept-alive connections to `origin`. */
export class KeepAliveClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  constructor(readonly origin: string) {}

  send({ method, path, headers = {}, body }: Outgoing): Promise<Reply> {
    const url = new URL(this.origin);
    // Node sends a body of GET, DELETE or OPTIONS without a length (nor chunked): the server would read
    // it as the next request. A length makes it this request's body.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const options = { host: url.hostname, port: url.port, method, path, agent: this.agent };
    return new Promise((resolve, reject) => {
      const req = request({ ...options, headers: { ...length, ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RawResponse {
  /** `HTTP/1.1 400 Bad Request` */
  statusLine: string;
  status: number;
  /** Every header line as received, split on CRLF only. */
  headerLines: string[];
  body: string;
  /** Everything received, as latin1 (byte for byte). */
  raw: string;
}

/**
 * Writes `bytes` to `host:port` as they are and reads until the server closes the connection (the
 * request should say `Connection: close`) or `timeoutMs` passes. The head is split on CRLF only, as
 * a strict client would split it: a bare LF or CR inside a header line stays inside it.
 */
export function rawExchange(origin: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of response from ${origin} in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may close while the request is still being written (a head too large): what it
    // sent before is the answer.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1')));
    });
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/** Splits one raw HTTP/1.1 response (the first, if several were received). */
export function parseRaw(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  return {
    statusLine,
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headerLines,
    body: end < 0 ? '' : raw.slice(end + 4),
    raw,
  };
}

/** The value of header `name` in a raw response's head lines (the first one). */
export function rawHeader(res: RawResponse, name: string): string | undefined {
  const prefix = `${name.toLowerCase()}:`;
  return res.headerLines
    .find((line) => line.toLowerCase().startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}

/** A stack trace's frame line (`    at fn (file:1:2)`), in any body. */
export const STACK_FRAME = /\n\s+at \S+/;
