#!/usr/bin/env node
// `npm run reset`: forgets every session, grant, refresh token and key by removing the data folders
// (`node scripts/reset.mjs [mock-as|reference-backend]` for one part). It refuses while `npm run dev`
// uses them: the running servers keep that data in memory too, and would answer 500 afterwards.
import { rmSync } from 'node:fs';
import { DATA_FOLDERS, dataFolder, lockHolder } from './data-folders.mjs';

const only = process.argv[2];
const folders = DATA_FOLDERS.filter((f) => !only || f.part === only);
if (!folders.length) {
  console.error(`reset: no part named "${only}"; name one of ${DATA_FOLDERS.map((f) => f.part).join(', ')}, or none`);
  process.exit(2);
}

// Every folder is checked before any is removed: a refusal leaves all the data as it was.
const busy = folders
  .map((f) => ({ ...f, dir: dataFolder(f) }))
  .filter((f) => f.dir && lockHolder(f.dir) !== undefined)
  .map((f) => `${f.part}: ${f.dir} (npm run dev, pid ${lockHolder(f.dir)})`);
if (busy.length) {
  console.error(
    `reset: npm run dev is running on this data:\n  ${busy.join('\n  ')}\n` +
      'Its servers keep it in memory too and would fail after a reset. ' +
      'Stop `npm run dev` first (Ctrl-C), then run `npm run reset`.',
  );
  process.exit(1);
}

for (const f of folders) {
  const dir = dataFolder(f);
  if (!dir) {
    console.log(`${f.part}: ${f.variable}=memory, nothing on disk to remove`);
    continue;
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`${f.part}: removed ${dir} (${f.holds})`);
}
