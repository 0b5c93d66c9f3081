/**
 * Mock mode (`mock: { enabled: true }`, env `BFF_MOCK=1`): the development-only scenario knobs of
 * admin.ts are mounted. It is refused outside local development: an https origin, or an origin or
 * issuer that is not a loopback host, stops start-up with an error naming BFF_MOCK.
 */

/** Turns the development-only admin API on. */
export interface MockMode {
  /** Default: false. */
  enabled: boolean;
  /**
   * The mock AS's control routes (its faults and its server-side sign-in), e.g.
   * `http://localhost:4000/_mock`: the AS knobs and the persona knob call them over HTTP. Without
   * it, those knobs answer that mock mode was started without BFF_MOCK_AS_CONTROL. Default: none.
   */
  control?: string | undefined;
}

/** Hosts that only this machine can reach (RFC 6761 §6.3 `localhost`, 127.0.0.0/8, ::1). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Throws a coded TypeError unless mock mode is off, or on with an http loopback origin and issuer. */
export function assertMockModeAllowed(config: { origin: string; issuer: string; mock?: MockMode | undefined }): void {
  if (config.mock === undefined) return;
  if (typeof config.mock !== 'object' || config.mock === null || typeof config.mock.enabled !== 'boolean') {
    throw Object.assign(new TypeError('mock must be { enabled: boolean }'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (!config.mock.enabled) return;
  const problems = [
    ['origin', config.origin],
    ['issuer', config.issuer],
  ].flatMap(([name, value]) => {
    const url = URL.canParse(value ?? '') ? new URL(value ?? '') : undefined;
    if (url?.protocol !== 'http:') return [`the ${name} ${value} is not http://`];
    return isLoopback(url.hostname) ? [] : [`the ${name} ${value} is not a loopback host`];
  });
  if (problems.length) {
    throw Object.assign(
      new TypeError(
        `BFF_MOCK (mock mode) is for local development only and cannot be turned on here: ${problems.join('; ')}. ` +
          'Turn mock mode off (BFF_MOCK=0; npm run dev turns it on), or serve the app and the AS on http://localhost.',
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
}
