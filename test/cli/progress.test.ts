// The progress bar hides the cursor and turns line wrap off while it runs; stop() must turn both back
// on (also when called from a signal handler, and twice), and a bar that was never shown writes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Progress, RESTORE_TERMINAL } from '../../src/cli/progress.ts';

/** A stand-in TTY that records what is written to it. */
function fakeTty(): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY: true,
    columns: 80,
    rows: 24,
    write: (s: string) => {
      chunks.push(String(s));
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    text: () => chunks.join(''),
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

test('a shown bar hides the cursor and disables wrap; stop() restores both, once', () => {
  const tty = fakeTty();
  const p = new Progress(5, true, tty);
  p.tick('a.png');
  const during = tty.text();
  assert.ok(during.includes('\x1b[?25l'), 'cursor hidden');
  assert.ok(during.includes('\x1b[?7l'), 'line wrap off');
  p.stop();
  const stopped = tty.text();
  p.stop();
  assert.equal(tty.text(), stopped, 'a second stop() writes nothing');
  // The last word on each setting is "on", whatever cli-progress itself wrote.
  assert.ok(stopped.lastIndexOf('\x1b[?25h') > stopped.lastIndexOf('\x1b[?25l'), 'cursor shown');
  assert.ok(stopped.lastIndexOf('\x1b[?7h') > stopped.lastIndexOf('\x1b[?7l'), 'line wrap on');
  assert.ok(stopped.endsWith(RESTORE_TERMINAL));
  assert.equal(RESTORE_TERMINAL, '\x1b[?25h\x1b[?7h');
});

test('no bar (disabled, or a single image): nothing is written', () => {
  for (const [total, enabled] of [
    [5, false],
    [1, true],
  ] as const) {
    const tty = fakeTty();
    const p = new Progress(total, enabled, tty);
    p.tick('a.png');
    p.stop();
    assert.equal(tty.text(), '');
  }
});
