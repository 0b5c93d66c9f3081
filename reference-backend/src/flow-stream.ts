/**
 * GET /_mock/flow (mock mode only, admin.ts): the session's flow events (flow-events.ts) as
 * Server-Sent Events, for the sample SPA's flow inspector. Read-only, and only the events of the
 * session of the cookie: another browser's sign-ins and refreshes never reach it.
 *
 * An `EventSource` cannot send the CSRF header (D4), so this route takes none: it changes nothing,
 * and a page of another site can neither send the SameSite=Strict cookie nor read the answer
 * (no CORS). The rest of D4 holds all the same: a `Sec-Fetch-Site` other than `same-origin` or
 * `none` (a same-site page, such as another port of localhost, does send the cookie), or an
 * `Origin` other than the app's own, is refused.
 */
import { PassThrough } from 'node:stream';
import { requireSameOrigin, sessionOf } from '@tmi-bff/koa';
import type { Context } from 'koa';
import type { FlowEvent, FlowEvents } from './flow-events.js';

/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** HTML §9.2 (Server-sent events): one event, named by its kind, with its id for `Last-Event-ID`. */
const frame = (event: FlowEvent) => `id: ${event.id}\nevent: flow\ndata: ${JSON.stringify(event)}\n\n`;

/** D4 without the header: `Sec-Fetch-Site` same-origin or none, `Origin` the app's own, when sent. */
export function refuseOtherOrigins(origin: string) {
  return requireSameOrigin({ header: undefined, origin });
}

export function flowStream(flow: FlowEvents) {
  return async function streamFlowEvents(ctx: Context): Promise<void> {
    const key = sessionOf(ctx).id;
    const after = Number(ctx.get('last-event-id') || 0) || 0;
    const body = new PassThrough();
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.body = body;
    body.write('retry: 2000\n\n');
    for (const event of flow.since(key, after)) body.write(frame(event));
    const unsubscribe = flow.subscribe(key, (event) => body.write(frame(event)));
    const heartbeat = setInterval(() => body.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      body.end();
    };
    ctx.req.once('close', stop);
    ctx.res.once('close', stop);
  };
}
