// One catalogue of error codes (src/api/error-catalogue.ts): the README's error table is
// rendered from it, and each code in it is one the code can answer with. ApiError only takes
// catalogued codes with their status (checked by the type checker), so nothing escapes it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERROR_CATALOGUE, renderErrorTable } from '../src/api/error-catalogue.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'client' ? [] : sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

test("the README's error table is the catalogue's", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Errors'));
  const table = /^\| status \| code \| when \|\n(?:\|.*\|\n?)+/m.exec(section)?.[0].trimEnd();
  assert.ok(table, 'README.md has a "| status | code | when |" table under "### Errors"');
  assert.equal(table, renderErrorTable(), `README.md's error table differs from src/api/error-catalogue.ts; it should read:\n\n${renderErrorTable()}\n`);
});

test('every catalogued code is one hookd answers with', () => {
  const code = sources(path.join(ROOT, 'src')).filter((file) => !file.endsWith('error-catalogue.ts')).map((file) => readFileSync(file, 'utf8')).join('\n');
  // notFound('event', id) answers event_not_found.
  const used = (name: string) => code.includes(`'${name}'`) || (name.endsWith('_not_found') && code.includes(`notFound('${name.slice(0, -'_not_found'.length)}'`));
  const unused = Object.keys(ERROR_CATALOGUE).filter((name) => !used(name));
  assert.deepEqual(unused, [], 'catalogued but never answered');
});
