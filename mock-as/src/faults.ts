/**
 * Fault injection, for development only: the mock AS fails, slows down or goes "down" on request,
 * for real and over HTTP, so a backend and its frontend meet the faults a real AS has.
 *
 * Off unless the AS is built with `faults: { enabled: true }` (`MOCK_AS_FAULTS=1`); then:
 *
 * | method | path                    | body                                                   |
 * |--------|-------------------------|--------------------------------------------------------|
 * | GET    | /_mock/faults           | (the state: `{ down, fail }`)                          |
 * | POST   | /_mock/faults/fail      | `{ count, error?, error_description?, status?, delayMs? }` |
 * | POST   | /_mock/faults/down      | (every other request is refused at the socket)        |
 * | POST   | /_mock/faults/up        |                                                        |
 *
 * With them, a server-side sign-in (control-sign-in.ts):
 *
 * | method | path                    | body                                                   |
 * |--------|-------------------------|--------------------------------------------------------|
 * | POST   | /_mock/sign-in          | `{ authorization_url, persona }` → `{ location }`      |
 *
 * Who may call them: a client registered at this AS with a secret, in HTTP Basic (control-auth.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import { answer, controlCaller, refuseCaller } from './control-auth.js';

export interface FaultsOption {
  /** Mounts the control routes (the faults, and the server-side sign-in) and the faults. Default: false. */
  enabled: boolean;
}

export const FAULTS_PATH = '/_mock/faults';

/** What the next token requests do. */
export interface TokenFailure {
  /** How many token requests it still applies to. */
  remaining: number;
  /** RFC 6749 §5.2 error code; without one the answer is not OAuth JSON (like a proxy's error page). */
  error?: string;
  error_description?: string;
  /** HTTP status of the failure. Default: 400 when `error` is set. */
  status?: number;
  /** Wait this long first; without `error` and `status` the request then goes through (a slow AS). */
  delayMs?: number;
}

export interface FaultState {
  down: boolean;
  fail: TokenFailure | null;
}

export interface Faults {
  /** Provider middleware, in this order, first of all. */
  middleware: Middleware[];
  state(): FaultState;
  /** Ends the waits of delayed requests (the server is closing). */
  close(): void;
}

/** RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E. */
const OAUTH_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

class BadRequest extends Error {}

function integer(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function text(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max || !OAUTH_TEXT.test(value)) {
    throw new BadRequest(`${name} must be a string of at most ${max} printable ASCII characters, without " or \\`);
  }
  return value;
}

const FAIL_KEYS = new Set(['count', 'error', 'error_description', 'status', 'delayMs']);

/** Validates the body of POST /_mock/faults/fail. A count of 0 clears the pending failure. */
export function parseFailure(body: unknown): TokenFailure | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequest('the body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !FAIL_KEYS.has(k));
  if (unknown.length) throw new BadRequest(`unknown member: ${unknown.join(', ')}`);
  const count = integer(fields, 'count', 0, 1000);
  if (count === undefined) throw new BadRequest('count is required');
  const failure: TokenFailure = { remaining: count };
  const error = text(fields, 'error', 64);
  const description = text(fields, 'error_description', 300);
  const status = integer(fields, 'status', 400, 599);
  const delayMs = integer(fields, 'delayMs', 0, 60_000);
  if (description !== undefined && error === undefined) throw new BadRequest('error_description needs an error');
  if (error === undefined && status === undefined && delayMs === undefined) {
    throw new BadRequest('name an error, a status or a delayMs');
  }
  if (error !== undefined) failure.error = error;
  if (description !== undefined) failure.error_description = description;
  if (status !== undefined || error !== undefined) failure.status = status ?? 400;
  if (delayMs !== undefined) failure.delayMs = delayMs;
  return count === 0 ? null : failure;
}

export function createFaults(provider: Provider): Faults {
  const state: FaultState = { down: false, fail: null };
  const closing = new AbortController();
  const tokenPath = provider.pathFor('token');
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '1kb', encoding: 'utf-8' });

  const authenticate = controlCaller(provider);

  const actions: Record<string, (ctx: Context) => Promise<void> | void> = {
    'GET /': () => {},
    'POST /down': () => {
      state.down = true;
    },
    'POST /up': () => {
      state.down = false;
    },
    'POST /fail': async (ctx) => {
      if (!ctx.is('application/json')) throw new BadRequest('the body must be application/json');
      await json(ctx, async () => {});
      state.fail = parseFailure(ctx.request.body);
    },
  };

  return {
    state: () => structuredClone(state),
    close: () => closing.abort(),
    middleware: [
      async function refuseWhileDown(ctx: Context, next: Next) {
        if (state.down && !ctx.path.startsWith(FAULTS_PATH)) {
          // As a stopped server would be: no HTTP answer at all.
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
        }
        await next();
      },
      async function controlFaults(ctx: Context, next: Next) {
        if (ctx.path !== FAULTS_PATH && !ctx.path.startsWith(`${FAULTS_PATH}/`)) return next();
        if (!(await authenticate(ctx))) return refuseCaller(ctx);
        const action = actions[`${ctx.method} ${ctx.path.slice(FAULTS_PATH.length) || '/'}`];
        if (!action) return answer(ctx, 404, { error: 'invalid_request', error_description: 'no such fault control' });
        try {
          await action(ctx);
        } catch (err) {
          const e = err as { status?: number; message: string };
          if (!(err instanceof BadRequest) && !(e.status && e.status < 500)) throw err;
          return answer(ctx, 400, { error: 'invalid_request', error_description: e.message });
        }
        answer(ctx, 200, state);
      },
      async function failTokenRequests(ctx: Context, next: Next) {
        const failure = state.fail;
        if (ctx.method !== 'POST' || ctx.path !== tokenPath || !failure) return next();
        failure.remaining -= 1;
        if (failure.remaining <= 0) state.fail = null;
        if (failure.delayMs) {
          try {
            await delay(failure.delayMs, undefined, { signal: closing.signal });
          } catch {
            ctx.respond = false;
            ctx.req.socket.destroy();
            return;
          }
        }
        if (failure.status === undefined) return next();
        // Answered before oidc-provider reads the grant: the presented refresh token stays unspent.
        if (failure.error) {
          const { error, error_description } = failure;
          answer(ctx, failure.status, { error, ...(error_description ? { error_description } : {}) });
        } else {
          ctx.status = failure.status;
          ctx.set('Cache-Control', 'no-store');
          ctx.type = 'text/plain';
          ctx.body = `mock-as: injected HTTP ${failure.status}`;
        }
      },
    ],
  };
}
