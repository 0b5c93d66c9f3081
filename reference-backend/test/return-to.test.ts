/**
 * RFC 9700 §4.11: the return path after sign-in, as plain functions: which values stay, which become
 * `/`, and which `Referer` gives a candidate path. The end-to-end cases are in open-redirect.test.ts.
 */
import test from 'ava';
import { refererPath, safeReturnTo } from '../src/oauth/return-to.js';

const ORIGIN = 'http://localhost:3000';

test('RFC 9700 §4.11: a path with a control character, DEL or a backslash becomes /; a path of 2048 characters is kept, a longer one is not', (t) => {
  for (const c of ['\u0001', '\u001f', '\u007f', '\\']) t.is(safeReturnTo(`/a${c}b`, ORIGIN), '/', JSON.stringify(c));
  t.is(safeReturnTo('/a b', ORIGIN), '/a%20b', 'a space is no control character');
  t.is(safeReturnTo('/a//', ORIGIN), '/a//', 'a double slash inside the path is harmless');
  const longest = `/${'a'.repeat(2047)}`;
  t.is(safeReturnTo(longest, ORIGIN), longest);
  t.is(safeReturnTo(`${longest}a`, ORIGIN), '/');
});

test('RFC 9700 §4.11: the Referer gives a return path only for a page of this origin outside /auth/', (t) => {
  t.is(refererPath(`${ORIGIN}/stocks?x=1#top`, ORIGIN), '/stocks?x=1#top');
  t.is(refererPath(`${ORIGIN}/shop/auth/`, ORIGIN), '/shop/auth/');
  t.is(refererPath(`${ORIGIN}/auth/login`, ORIGIN), '/');
  t.is(refererPath('http://evil.example/stocks', ORIGIN), '/');
  t.is(refererPath('not a url', ORIGIN), '/');
  t.is(refererPath(undefined, ORIGIN), '/');
  t.is(refererPath('', ORIGIN), '/');
});
