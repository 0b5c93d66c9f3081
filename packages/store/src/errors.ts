/** A programmer error: a coded `TypeError`, as Node's own argument checks throw. */
export function invalidValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}
