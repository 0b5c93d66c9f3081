#!/usr/bin/env node
// Keeps the code excerpts in docs/ equal to the code. In a chapter:
//   <!-- excerpt: packages/koa/src/endpoints/bff-token.ts#walkthrough:bff-token -->
//   ```ts
//   (filled in from the region `// #region walkthrough:bff-token` … `// #endregion` of that file)
//   ```
//   <!-- /excerpt -->
//   node docs/scripts/excerpts.mjs          rewrites the excerpts
//   node docs/scripts/excerpts.mjs --check  fails when one is stale or its region is missing
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const docs = join(root, 'docs');
const check = process.argv.includes('--check');
const problems = [];

function region(file, name) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '// #endregion');
  if (start < 0 || end < 0) return undefined;
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join('\n');
}

const markdown = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdown(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );

let count = 0;
for (const path of markdown(docs)) {
  const text = readFileSync(path, 'utf8');
  const next = text.replace(
    /<!-- excerpt: ([^#\s]+)#(\S+) -->\n```(\w+)\n(?:(?!```\n<!-- \/excerpt -->)[\s\S])*```\n<!-- \/excerpt -->/g,

    (whole, file, name, lang) => {
      count += 1;
      const code = region(file, name);
      if (code === undefined) {
        problems.push(`${relative(root, path)}: no region "${name}" in ${file}`);
        return whole;
      }
      return `<!-- excerpt: ${file}#${name} -->\n\`\`\`${lang}\n${code}\n\`\`\`\n<!-- /excerpt -->`;
    },
  );
  if (next !== text) {
    if (check) problems.push(`${relative(root, path)}: an excerpt is stale: run node docs/scripts/excerpts.mjs`);
    else writeFileSync(path, next);
  }
}
if (problems.length) {
  console.error(`excerpt check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`excerpts: ${count} ${check ? 'checked' : 'written'}`);
