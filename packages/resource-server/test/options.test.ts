import test from 'ava';
import { requireAccessToken, type ValidatorOptions } from '../src/index.js';

const valid = { issuer: 'https://as.example', audience: 'https://api.example/stocks' };

test('requireAccessToken refuses unknown options and wrong values with coded TypeErrors', (t) => {
  const cases: Array<[unknown, string, string]> = [
    [undefined, 'ERR_INVALID_ARG_TYPE', 'options must be an object'],
    ['https://as.example', 'ERR_INVALID_ARG_TYPE', 'options must be an object'],
    [
      { ...valid, issuer: new URL('https://as.example') },
      'ERR_INVALID_ARG_VALUE',
      'options.issuer must be an absolute URL',
    ],
    [{ ...valid, audience: 42 }, 'ERR_INVALID_ARG_TYPE', 'options.audience must be this resource server’s identifier'],
    [{ ...valid, audiance: 'x' }, 'ERR_INVALID_ARG_VALUE', 'unknown option "audiance"'],
    [{ ...valid, issuer: 'as.example' }, 'ERR_INVALID_ARG_VALUE', 'options.issuer must be an absolute URL'],
    [{ ...valid, audience: '' }, 'ERR_INVALID_ARG_TYPE', 'options.audience must be this resource server’s identifier'],
    [{ ...valid, jwksUri: '/jwks' }, 'ERR_INVALID_ARG_VALUE', 'options.jwksUri must be an absolute URL'],
    [{ ...valid, clockTolerance: -1 }, 'ERR_INVALID_ARG_TYPE', 'options.clockTolerance must be a number, 0 or more'],
    [
      { ...valid, timeoutDuration: 1.5 },
      'ERR_INVALID_ARG_TYPE',
      'options.timeoutDuration must be a number, 0 or more (whole)',
    ],
  ];
  for (const [options, code, message] of cases) {
    t.throws(() => requireAccessToken(options as ValidatorOptions), { instanceOf: TypeError, code, message });
  }
  t.is(typeof requireAccessToken({ ...valid, jwksUri: 'https://as.example/jwks', timeoutDuration: 0 }), 'function');
});
