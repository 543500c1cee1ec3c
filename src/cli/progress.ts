// A progress bar with ETA on stderr for multi-image runs, only on a TTY (a pipe or CI log gets none).

import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private done = 0;

  constructor(
    private readonly total: number,
    enabled: boolean,
  ) {
    if (!enabled || total < 2) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: ' {bar} {value}/{total} images | ETA {eta_formatted} | {file}',
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { file: '' });
  }

  tick(file: string): void {
    this.done = Math.min(this.total, this.done + 1);
    this.bar?.update(this.done, { file });
  }

  stop(): void {
    this.bar?.stop();
  }
}
