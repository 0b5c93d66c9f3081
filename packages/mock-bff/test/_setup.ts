/** Shared by the tests of this package: a stack per test, stopped in teardown, and same-origin calls to it. */
import { CSRF_HEADER, type MockBff, type MockBffOptions, startMockBff } from '@tmi-bff/mock-bff';
import type { ExecutionContext } from 'ava';

/** A mock BFF on ephemeral ports, stopped when the test ends. */
export async function started(t: ExecutionContext, options: MockBffOptions = {}): Promise<MockBff> {
  const bff = await startMockBff(options);
  t.teardown(() => bff.stop());
  return bff;
}

/** A call of the app's own page to a BFF endpoint: the CSRF header and the session cookie. */
export async function callBff(bff: MockBff, path: string, cookieHeader: string) {
  const res = await fetch(`${bff.url}${path}`, { headers: { [CSRF_HEADER]: '1', cookie: cookieHeader } });
  return { res, body: (await res.json()) as Record<string, unknown> };
}
