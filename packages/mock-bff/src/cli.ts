#!/usr/bin/env -S tsx --conditions=development
/**
 * `tmi-bff-mock` (and `npm run mock` at the repository root): the mock AS, the BFF and the demo APIs
 * in front of your own app, with prefixed logs; the URLs once everything answers; Ctrl-C stops all.
 *
 *   tmi-bff-mock --frontend http://localhost:5173 [--port 3000]   proxy mode: your dev server
 *   tmi-bff-mock --static ./dist [--port 3000]                     static mode: your built app
 *
 * Walkthrough: docs/walkthrough/07-own-frontend.md.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AUTH_PATHS } from '@tmi-bff/reference-backend';
import { type MockBff, startMockBff } from './start-mock-bff.js';

const USAGE = `Usage: tmi-bff-mock [--frontend <dev server URL> | --static <folder>] [--port 3000] [--as-port 4000] [--api-port 4001]

  --frontend <url>   proxy every request that is not the BFF's own to your dev server (e.g. http://localhost:5173)
  --static <folder>  serve your built app from a folder, with an SPA history fallback
  --port <n>         the app is served at http://localhost:<n> (default 3000)
  --as-port <n>      the mock authorization server's port (default 4000)
  --api-port <n>     the demo APIs' port (default 4001)`;

function fail(message: string): never {
  console.error(`tmi-bff-mock: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function portOf(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) fail(`--${name} must be a port number, got "${value}"`);
  return n;
}

/** Whether something answers at `url` (any HTTP status counts). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      options: {
        frontend: { type: 'string' },
        static: { type: 'string' },
        port: { type: 'string' },
        'as-port': { type: 'string' },
        'api-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  try {
    args = parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const { values } = args;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.frontend && values.static) fail('--frontend and --static are exclusive');

  const started = performance.now();
  let bff: MockBff;
  try {
    bff = await startMockBff({
      ...(values.frontend ? { frontend: values.frontend } : {}),
      // Named from where the command was typed (npm run changes the working directory to the root).
      ...(values.static ? { static: resolve(process.env.INIT_CWD ?? process.cwd(), values.static) } : {}),
      port: portOf('port', values.port, 3000),
      asPort: portOf('as-port', values['as-port'], 4000),
      apiPort: portOf('api-port', values['api-port'], 4001),
      log: (line) => console.log(`mock │ ${line}`),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      fail(
        `${e.message}: another process holds the port. Stop it, or choose others with --port, --as-port, --api-port.`,
      );
    }
    fail(e.message);
  }

  const stop = async (signal: string) => {
    console.log(`tmi-bff-mock: ${signal}, stopping`);
    await bff.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const ready = await Promise.all([
    answers(`${bff.issuer}/.well-known/openid-configuration`),
    // A quiet route of the BFF's own: a redirect to `/`.
    answers(`${bff.url}${AUTH_PATHS.signedOut}`),
    answers(`${bff.apiUrl}/stocks/quotes`),
  ]);
  if (!ready.every(Boolean)) fail('a part of the stack does not answer; read the log lines above');
  const app = values.frontend
    ? `your dev server ${values.frontend}, proxied`
    : values.static
      ? `your built app from ${values.static}`
      : "no app of yours (give --frontend or --static): the BFF's plain home page";
  console.log(
    [
      '',
      `tmi-bff mock is up (${((performance.now() - started) / 1000).toFixed(1)} s):`,
      `  Your app, with the BFF        ${bff.url}   (${app})`,
      `  Mock authorization server     ${bff.issuer}`,
      `  Demo APIs (Stocks, A → B → C) ${bff.apiUrl}`,
      '  Personas: alice/alice, bob/bob, carol/carol. Sign in at /auth/login, sign out with a POST form to /auth/logout.',
      '  Scenario knobs (dev only) under /_mock. Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
  if (values.frontend && !(await answers(values.frontend))) {
    console.log(`tmi-bff-mock: nothing answers at ${values.frontend} yet: start your dev server there.`);
  }
}

await main();
