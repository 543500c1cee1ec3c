// A progress bar with ETA on stderr for multi-image runs, only on a TTY (a pipe or CI log gets none).

import cliProgress from 'cli-progress';

/** Shows the cursor and turns line wrap back on: what the bar turned off (hideCursor, linewrap: false). */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private done = 0;
  private stopped = false;

  constructor(
    private readonly total: number,
    enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    if (!enabled || total < 2) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: ' {bar} {value}/{total} images | ETA {eta_formatted} | {file}',
        hideCursor: true,
        clearOnComplete: true,
        stream,
        // Signals are the command's to handle (cli/interrupt.ts), which stops the bar first.
        gracefulExit: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { file: '' });
  }

  tick(file: string): void {
    this.done = Math.min(this.total, this.done + 1);
    this.bar?.update(this.done, { file });
  }

  /**
   * Stops the bar and restores the terminal; safe to call twice, and from a signal handler (the bar's
   * own stop() does nothing when its timer is not running, so the restore is written regardless).
   */
  stop(): void {
    if (!this.bar || this.stopped) return;
    this.stopped = true;
    this.bar.stop();
    this.stream.write(RESTORE_TERMINAL);
  }
}
