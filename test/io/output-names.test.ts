// Names derived from untrusted text: always one plain path segment inside its folder (no `.`, `..`,
// hidden names, separators or control characters), readable letters kept, bounded, unique.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NAME_BYTES, safeName, uniqueName } from '../../src/io/output-names.ts';

/** What every derived name must satisfy to stay inside its folder. */
function assertPlainSegment(name: string): void {
  assert.ok(name !== '' && name !== '.' && name !== '..', JSON.stringify(name));
  assert.ok(!name.startsWith('.'), `hidden: ${JSON.stringify(name)}`);
  const bad = [...name].filter((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c === '\x7f');
  assert.deepEqual(bad, [], `separator or control character: ${JSON.stringify(name)}`);
  assert.ok(new TextEncoder().encode(name).length <= MAX_NAME_BYTES, `too long: ${name.length}`);
}

test('dots, separators and control characters never make `.`, `..` or a path', () => {
  const cases: [string, string][] = [
    ['.. ', 'image'],
    ['..', 'image'],
    ['.', 'image'],
    ['...', 'image'],
    ['../../etc/passwd', 'etc_passwd'],
    ['..\\..\\x', 'x'],
    ['.hidden', 'hidden'],
    ['a\x00b\x1b[31mc', 'a_b_31mc'],
    ['line\nbreak', 'line_break'],
    ['a..b', 'a.b'],
    ['trailing.', 'trailing'],
    ['-rf', 'rf'],
    ['', 'image'],
    ['CON', 'CON_'],
    ['nul.tar', 'nul.tar_'],
  ];
  for (const [raw, want] of cases) {
    const got = safeName(raw, 'image');
    assert.equal(got, want, JSON.stringify(raw));
    assertPlainSegment(got);
  }
});

test('readable letters of any script are kept, in NFC', () => {
  assert.equal(safeName('café', 'image'), 'café');
  assert.equal(safeName('cafe\u0301', 'image'), 'caf\u00e9'); // NFD input, NFC name
  assert.equal(safeName('猫の写真 2', 'image'), '猫の写真_2');
  assert.equal(safeName('Ωμέγα', 'image'), 'Ωμέγα');
  assert.equal(safeName('photo 😀 x', 'image'), 'photo_x');
});

test('long names are cut to MAX_NAME_BYTES at a character boundary', () => {
  const long = safeName('é'.repeat(200), 'image');
  assert.equal(long, 'é'.repeat(MAX_NAME_BYTES / 2)); // 2 bytes each
  assertPlainSegment(long);
  assertPlainSegment(safeName('a'.repeat(1000), 'image'));
  assert.equal(safeName(`${'a'.repeat(MAX_NAME_BYTES - 1)}.png`, 'x'), 'a'.repeat(MAX_NAME_BYTES - 1));
});

test('uniqueName: distinct case-insensitively, reserved names never given out', () => {
  const taken = new Set<string>();
  const reserved = ['results.json', 'report.html'];
  const got = ['cat', 'Cat', 'cat', '..', '.', 'results.json', 'REPORT.html'].map((n) =>
    uniqueName(taken, n, 'image', reserved),
  );
  assert.deepEqual(got, ['cat', 'Cat-2', 'cat-3', 'image', 'image-2', 'results.json-2', 'REPORT.html-2']);
});
