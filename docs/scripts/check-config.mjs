#!/usr/bin/env node
// Checks docs/configuration.md against the typed configuration: every option the code reads or
// declares has a row in the reference, and every option the reference names still exists.
//
//   node docs/scripts/check-config.mjs [--root <dir>] [--reference <file.md>] [--sources <file.json>]
//
// The sources of truth (SOURCES below) are read with the TypeScript parser (syntax only, no type
// checker), one kind of extraction each:
//   env      every environment variable the file reads: `env.NAME`, `env['NAME']`, and a string
//            literal in CAPS passed to a call that also takes `env` (`setting(env, 'BFF_SCOPE', …)`)
//   members  the members of an interface (or a type alias of an object type), as dotted paths. A
//            member whose type is an object type declared in the same file or in a relatively
//            imported one (an interface, a type literal, a union of them; `Partial<…>`, `Readonly<…>`
//            and `| undefined` unwrapped) is expanded into its members; any other type is a leaf.
//            `extends` is not followed: an interface lists its own members.
//   flags    the keys of the `options` object passed to `parseArgs(…)`, as `--name` (and `-x` for `short`)
//   zod      the keys of a zod object schema (`z.object`, `z.strictObject`, `z.looseObject`), as
//            paths such as `users[].policy.denied_scopes`, following consts declared in the file
//            and `z.array(…)`; records and scalars are leaves
// A leaf must be documented; a container (`client`, `users[].policy`) may be.
//
// In the reference, a source's part is the text under its `## <part>` heading, up to the next `## `
// heading. There, every table with a column headed exactly `<column>` documents that source: each
// backticked name in that column's cells is a documented option.
// Prints each drift, naming the file (and line), and exits 1.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';

/** The configuration of each part of the project, and where the reference documents it. */
const SOURCES = [
  { part: 'The mock authorization server', column: 'variable', file: 'mock-as/src/config.ts', kind: 'env' },
  {
    part: 'The mock authorization server',
    column: '`MockAsConfig` field',
    file: 'mock-as/src/config.ts',
    kind: 'members',
    type: 'MockAsConfig',
  },
  {
    part: 'The mock authorization server',
    column: '`startMockAs` option',
    file: 'mock-as/src/app.ts',
    kind: 'members',
    type: 'StartOptions',
  },
  {
    part: 'The mock authorization server',
    column: 'seed key',
    file: 'mock-as/src/seed.ts',
    kind: 'zod',
    schema: 'seedSchema',
  },
  { part: 'The reference backend', column: 'variable', file: 'reference-backend/src/config.ts', kind: 'env' },
  {
    part: 'The reference backend',
    column: '`BackendConfig` field',
    file: 'reference-backend/src/config.ts',
    kind: 'members',
    type: 'BackendConfig',
  },
  { part: 'The mock BFF', column: 'flag', file: 'packages/mock-bff/src/cli.ts', kind: 'flags' },
  {
    part: 'The mock BFF',
    column: '`startMockBff` option',
    file: 'packages/mock-bff/src/options.ts',
    kind: 'members',
    type: 'MockBffOptions',
  },
  {
    part: 'The SDK',
    column: '`createBffClient` option',
    file: 'packages/client/src/index.ts',
    kind: 'members',
    type: 'BffClientOptions',
  },
];

const CAPS = /^[A-Z][A-Z0-9_]*[A-Z0-9]$/;

const parsed = new Map();
function parse(file) {
  if (!parsed.has(file))
    parsed.set(file, ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true));
  return parsed.get(file);
}

function walk(node, visit) {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

const isEnv = (node) => ts.isIdentifier(node) && node.text === 'env';

/** `env` kind: the environment variables a file reads. */
function envNames(file) {
  const names = new Set();
  walk(parse(file), (node) => {
    if (ts.isPropertyAccessExpression(node) && isEnv(node.expression) && CAPS.test(node.name.text)) {
      names.add(node.name.text);
    } else if (
      ts.isElementAccessExpression(node) &&
      isEnv(node.expression) &&
      ts.isStringLiteral(node.argumentExpression) &&
      CAPS.test(node.argumentExpression.text)
    ) {
      names.add(node.argumentExpression.text);
    } else if (ts.isCallExpression(node) && node.arguments.some(isEnv)) {
      for (const arg of node.arguments) {
        if (ts.isStringLiteralLike(arg) && CAPS.test(arg.text)) names.add(arg.text);
      }
    }
  });
  return { leaves: names, containers: new Set() };
}

/** Object-shaped declarations by name: in the file itself, or imported from a relative module. */
const declarations = new Map();
function declarationsOf(file, cache = declarations) {
  if (cache.has(file)) return cache.get(file);
  const found = new Map();
  cache.set(file, found);
  const source = parse(file);
  for (const stmt of source.statements) {
    if (ts.isInterfaceDeclaration(stmt) || ts.isTypeAliasDeclaration(stmt)) found.set(stmt.name.text, { stmt, file });
  }
  for (const stmt of source.statements) {
    if (!ts.isImportDeclaration(stmt) || !stmt.importClause) continue;
    const spec = stmt.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const target = join(dirname(file), spec.replace(/\.js$/, '.ts'));
    const bindings = stmt.importClause.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const el of bindings.elements) {
      const imported = (el.propertyName ?? el.name).text;
      let decl;
      try {
        decl = declarationsOf(target, cache).get(imported);
      } catch {
        decl = undefined;
      }
      if (decl && !found.has(el.name.text)) found.set(el.name.text, decl);
    }
  }
  return found;
}

const WRAPPERS = new Set(['Partial', 'Readonly', 'Required']);

/** The member lists a type stands for, or undefined when it is a leaf. */
function shapesOf(type, file, seen) {
  if (ts.isParenthesizedTypeNode(type)) return shapesOf(type.type, file, seen);
  if (ts.isTypeLiteralNode(type)) return [{ members: type.members, file }];
  if (ts.isUnionTypeNode(type)) {
    const parts = type.types.filter(
      (t) =>
        t.kind !== ts.SyntaxKind.UndefinedKeyword &&
        !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword),
    );
    const shapes = parts.map((t) => shapesOf(t, file, seen));
    return shapes.every(Boolean) ? shapes.flat() : undefined;
  }
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const name = type.typeName.text;
    if (WRAPPERS.has(name) && type.typeArguments?.length === 1) return shapesOf(type.typeArguments[0], file, seen);
    const decl = declarationsOf(file).get(name);
    if (!decl || seen.has(decl.stmt)) return undefined;
    const next = new Set(seen).add(decl.stmt);
    if (ts.isInterfaceDeclaration(decl.stmt)) return [{ members: decl.stmt.members, file: decl.file, seen: next }];
    return shapesOf(decl.stmt.type, decl.file, next);
  }
  return undefined;
}

/** `members` kind: an interface's members as dotted paths. */
function memberNames(file, typeName) {
  const decl = declarationsOf(file).get(typeName);
  if (!decl) throw new Error(`${file}: no interface or type named ${typeName}`);
  const leaves = new Set();
  const containers = new Set();
  const visit = (members, where, prefix, seen) => {
    for (const member of members) {
      if (!member.name || !(ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) continue;
      const path = `${prefix}${member.name.text}`;
      const shapes = ts.isPropertySignature(member) && member.type ? shapesOf(member.type, where, seen) : undefined;
      if (!shapes) {
        leaves.add(path);
        continue;
      }
      containers.add(path);
      for (const shape of shapes) visit(shape.members, shape.file, `${path}.`, shape.seen ?? seen);
    }
  };
  const seen = new Set([decl.stmt]);
  const top = ts.isInterfaceDeclaration(decl.stmt)
    ? [{ members: decl.stmt.members, file: decl.file }]
    : shapesOf(decl.stmt.type, decl.file, seen);
  for (const shape of top ?? []) visit(shape.members, shape.file, '', seen);
  return { leaves, containers };
}

/** `flags` kind: the long options of `parseArgs({ options: { … } })` (their short aliases may be named too). */
function flagNames(file) {
  const leaves = new Set();
  const containers = new Set();
  walk(parse(file), (node) => {
    if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'parseArgs') return;
    const [config] = node.arguments;
    if (!config || !ts.isObjectLiteralExpression(config)) return;
    for (const prop of config.properties) {
      if (!ts.isPropertyAssignment(prop) || prop.name.getText() !== 'options') continue;
      if (!ts.isObjectLiteralExpression(prop.initializer)) continue;
      for (const option of prop.initializer.properties) {
        if (!option.name) continue;
        leaves.add(`--${option.name.getText().replace(/^['"]|['"]$/g, '')}`);
        // `short: 'h'`: the one-letter alias, which the reference may name too.
        const short =
          ts.isPropertyAssignment(option) && ts.isObjectLiteralExpression(option.initializer)
            ? option.initializer.properties.find((p) => p.name?.getText() === 'short')
            : undefined;
        if (short && ts.isPropertyAssignment(short) && ts.isStringLiteral(short.initializer)) {
          containers.add(`-${short.initializer.text}`);
        }
      }
    }
  });
  return { leaves, containers };
}

const ZOD_OBJECTS = new Set(['object', 'strictObject', 'looseObject']);

/** `zod` kind: the key paths of a zod object schema. */
function zodNames(file, schemaName) {
  const source = parse(file);
  const consts = new Map();
  walk(source, (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      consts.set(node.name.text, node.initializer);
    }
  });
  // The core of a schema expression: `{ object: literal }`, `{ array: element }`, or undefined (a leaf).
  const core = (expr, seen = new Set()) => {
    while (expr) {
      if (ts.isIdentifier(expr)) {
        if (seen.has(expr.text) || !consts.has(expr.text)) return undefined;
        seen.add(expr.text);
        expr = consts.get(expr.text);
      } else if (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression)) {
        const callee = expr.expression;
        const method = callee.name.text;
        if (ts.isIdentifier(callee.expression) && callee.expression.text === 'z') {
          if (ZOD_OBJECTS.has(method) && expr.arguments[0] && ts.isObjectLiteralExpression(expr.arguments[0])) {
            return { object: expr.arguments[0] };
          }
          if (method === 'array') return { array: expr.arguments[0] };
          return undefined;
        }
        expr = callee.expression; // `.optional()`, `.default(…)`, `.superRefine(…)`: the schema it wraps
      } else if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr)) {
        expr = expr.expression;
      } else {
        return undefined;
      }
    }
    return undefined;
  };
  const leaves = new Set();
  const containers = new Set();
  const visit = (expr, path, seen) => {
    const found = core(expr, new Set(seen));
    if (found?.array !== undefined) {
      const element = core(found.array, new Set(seen));
      if (element?.object) {
        if (path) containers.add(path);
        return visit(found.array, `${path}[]`, seen);
      }
      return leaves.add(path);
    }
    if (!found?.object) return leaves.add(path);
    if (path) containers.add(path);
    for (const prop of found.object.properties) {
      if (!ts.isPropertyAssignment(prop)) continue;
      const key = prop.name.getText().replace(/^['"]|['"]$/g, '');
      visit(prop.initializer, path ? `${path}.${key}` : key, seen);
    }
  };
  if (!consts.has(schemaName)) throw new Error(`${file}: no const named ${schemaName}`);
  visit(ts.factory.createIdentifier(schemaName), '', new Set());
  return { leaves, containers };
}

/** The options a source declares. */
export function extract(source, root) {
  const file = join(root, source.file);
  if (source.kind === 'env') return envNames(file);
  if (source.kind === 'members') return memberNames(file, source.type);
  if (source.kind === 'flags') return flagNames(file);
  if (source.kind === 'zod') return zodNames(file, source.schema);
  throw new Error(`unknown kind ${source.kind}`);
}

/** A table row's cells, `|` inside backticks kept. */
function cells(line) {
  const out = [];
  let cell = '';
  let code = false;
  for (const ch of line.trim().replace(/^\||\|$/g, '')) {
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

/** Every table of the reference, with the `## ` part it sits in. */
function tablesOf(text) {
  const lines = text.split('\n');
  const tables = [];
  let part;
  let fence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^(```|~~~)/.test(line)) fence = !fence;
    if (fence) continue;
    if (/^## /.test(line)) part = line.slice(3).trim();
    if (!line.startsWith('|') || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[i + 1] ?? '')) continue;
    const table = { part, header: cells(line), rows: [] };
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++)
      table.rows.push({ line: i + 1, cells: cells(lines[i]) });
    tables.push(table);
    i -= 1;
  }
  return tables;
}

/** The drift between the sources and the reference, one line each, and how many options were found. */
export function checkConfig({ root, reference, sources = SOURCES }) {
  const doc = relative(root, reference) || reference;
  const tables = tablesOf(readFileSync(reference, 'utf8'));
  const problems = [];
  let options = 0;
  for (const source of sources) {
    const { leaves, containers } = extract(source, root);
    options += leaves.size;
    const documented = new Map();
    const mine = tables.filter((t) => t.part === source.part && t.header.includes(source.column));
    if (mine.length === 0) {
      problems.push(`${doc}: no table with a "${source.column}" column under "## ${source.part}" (for ${source.file})`);
      continue;
    }
    for (const table of mine) {
      const col = table.header.indexOf(source.column);
      for (const row of table.rows) {
        for (const [, name] of (row.cells[col] ?? '').matchAll(/`([^`]+)`/g)) {
          if (!documented.has(name)) documented.set(name, row.line);
        }
      }
    }
    for (const name of [...leaves].sort()) {
      if (!documented.has(name)) {
        problems.push(
          `${doc}: ${source.file} ${source.kind === 'env' ? 'reads' : 'declares'} \`${name}\`, ` +
            `which "## ${source.part}" does not document: add a row to a table with a "${source.column}" column`,
        );
      }
    }
    for (const [name, line] of documented) {
      if (!leaves.has(name) && !containers.has(name)) {
        problems.push(
          `${doc}:${line}: \`${name}\` is documented as a "${source.column}" of ${source.part}, ` +
            `but ${source.file} has no such option: remove or rename the row`,
        );
      }
    }
  }
  return { problems, options };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({
    options: { root: { type: 'string' }, reference: { type: 'string' }, sources: { type: 'string' } },
  });
  const root = values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const reference = values.reference ?? join(root, 'docs', 'configuration.md');
  const sources = values.sources ? JSON.parse(readFileSync(values.sources, 'utf8')) : SOURCES;
  const { problems, options } = checkConfig({ root, reference, sources });
  for (const p of problems) console.error(`check-config: ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(
    `configuration: ${options} options of ${sources.length} sources, each documented in ${relative(root, reference)}`,
  );
}
