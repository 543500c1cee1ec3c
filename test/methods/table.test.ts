// The method table is the one source of the method list: ids are unique, every entry names a paper,
// and the README's table is exactly the generated one.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { methodTableMarkdown } from '../../src/methods/markdown.ts';
import { METHOD_IDS, METHODS, methodById } from '../../src/methods/table.ts';
import { repoRoot } from '../helpers/shared.ts';

test('ids are unique and resolvable; every method cites a paper', () => {
  assert.equal(new Set(METHOD_IDS).size, METHODS.length);
  for (const m of METHODS) {
    assert.equal(methodById(m.id), m);
    assert.match(m.paper.url, /^https:\/\//);
    assert.ok(m.title && m.summary);
  }
  assert.equal(methodById('nope'), undefined);
});

test('the README method table is the generated one', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  assert.ok(
    readme.includes(methodTableMarkdown()),
    'run: node --import tsx scripts/method-table.ts and paste it into README.md',
  );
});
