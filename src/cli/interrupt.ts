// SIGINT/SIGTERM during a command that writes many files: the command finishes the write in progress,
// cleans up and exits 130/143 (128 + the signal number, as shells report a signal). The signal only sets
// a flag and runs `onSignal` (restore the terminal); the command checks the flag between images and
// unwinds with Interrupted, which main.ts turns into the exit code. A second signal exits at once.

import { RESTORE_TERMINAL } from './progress.ts';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof EXIT_CODES;

export class Interrupted extends Error {
  constructor(
    readonly signal: InterruptSignal,
    note = 'stopped before finishing; the previous results in the output folder are unchanged',
  ) {
    super(`interrupted (${signal}): ${note}`);
    this.name = 'Interrupted';
  }

  get exitCode(): number {
    return EXIT_CODES[this.signal];
  }
}

export class InterruptWatch {
  private received: InterruptSignal | undefined;
  private readonly handlers = new Map<InterruptSignal, () => void>();
  private readonly controller = new AbortController();
  private callback: () => void;

  constructor(onSignal: () => void = () => {}) {
    this.callback = onSignal;
    for (const sig of Object.keys(EXIT_CODES) as InterruptSignal[]) {
      const handler = () => {
        if (this.received) {
          if (process.stderr.isTTY) process.stderr.write(RESTORE_TERMINAL);
          process.exit(EXIT_CODES[sig]);
        }
        this.received = sig;
        this.controller.abort(new Interrupted(sig));
        this.callback();
      };
      this.handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  /** What to run when the first signal arrives (restore the terminal); replaces the previous one. */
  onSignal(fn: () => void): void {
    this.callback = fn;
  }

  get signal(): InterruptSignal | undefined {
    return this.received;
  }

  /** Aborted with an Interrupted at the first signal: library calls given it stop between their runs. */
  get abortSignal(): AbortSignal {
    return this.controller.signal;
  }

  /** Throws Interrupted if a signal arrived; `note` says what state the command leaves. */
  check(note?: string): void {
    if (this.received) throw new Interrupted(this.received, note);
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.off(sig, handler);
  }
}
