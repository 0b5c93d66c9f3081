/**
 * Child process of the atomic-write test: opens the LowdbStore at argv[2] and stores a value of
 * argv[3] bytes in it, then prints the error code of the failed write and of its cause
 * ("TMI_BFF_STORE_WRITE_FAILED EFBIG" under `ulimit -f`), or "written".
 */
import { LowdbStore } from '../src/index.js';

const [file, size] = process.argv.slice(2);
if (!file || !size) throw new TypeError('usage: _write-past-limit.ts <file> <bytes>');
const store = await LowdbStore.open({ file, shards: 1 });
try {
  await store.set('session:big', 'x'.repeat(Number(size)));
  console.log('written');
} catch (err) {
  const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
  console.log([(err as NodeJS.ErrnoException).code ?? String(err), cause?.code].filter(Boolean).join(' '));
}
