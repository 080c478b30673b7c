#!/usr/bin/env node
// The SQL-layer check, run by scripts/run-tests.mjs before the tests (docs/architecture.md): every query lives in
// a repository of src/store/. It scans the TypeScript of src/ outside src/store/ (and src/web, browser code) for
// Kysely query builders (.selectFrom( .insertInto( .updateTable( .deleteFrom( .transaction( ), sql`…` templates
// and value imports from 'kysely', and prints file:line for each. `import type` of Kysely types is allowed.
// Exit status 1 when anything is found. Run alone: `node scripts/check-sql-layer.mjs`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const EXEMPT = [join(src, 'store'), join(src, 'web')];

const RULES = [
  { what: 'Kysely query builder', re: /\.(selectFrom|insertInto|updateTable|deleteFrom|transaction)\s*\(/g },
  { what: 'sql`` template', re: /\bsql\s*`/g },
  // a value import (`import { sql } from 'kysely'`, over several lines too, `import('kysely')`); `import type …` is fine
  { what: "value import from 'kysely'", re: /^[ \t]*(import|export)\s+(?!type\b)[^;]*?\bfrom\s+['"]kysely['"]|\bimport\s*\(\s*['"]kysely['"]/gm },
];

function tsFiles(dir) {
  if (EXEMPT.includes(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every SQL use outside src/store/, as `file:line: what: the line`. */
export function sqlOutsideStore() {
  const hits = [];
  for (const file of tsFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    for (const rule of RULES) {
      for (const m of text.matchAll(rule.re)) {
        const line = text.slice(0, m.index).split('\n').length;
        hits.push(`${relative(root, file).split(sep).join('/')}:${line}: ${rule.what}: ${lines[line - 1].trim()}`);
      }
    }
  }
  return hits;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const hits = sqlOutsideStore();
  for (const h of hits) console.error(`  ${h}`);
  console.error(`[check-sql-layer] ${hits.length === 0 ? 'no SQL outside src/store/' : `${hits.length} SQL uses outside src/store/: move them into a src/store/ repository`}`);
  process.exit(hits.length === 0 ? 0 : 1);
}
