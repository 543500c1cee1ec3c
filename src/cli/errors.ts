// How the CLI reports failures: a typed error is one line `error[code]: message` plus a hint line and
// exit code 1; a usage error exits 2; anything else is a bug, reported as such (stack with --debug).

import pc from 'picocolors';
import { GradsightError } from '../errors.ts';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export function reportError(e: unknown, debug: boolean, write: (s: string) => void): number {
  if (e instanceof GradsightError) {
    write(`${pc.red(`error[${e.code}]`)}: ${e.message}\n`);
    if (e.hint) write(`  ${pc.dim('hint:')} ${e.hint}\n`);
    if (debug && e.stack) write(`${e.stack}\n${causeChain(e)}`);
    return e.code === 'bad-argument' ? EXIT_USAGE : EXIT_ERROR;
  }
  const msg = e instanceof Error ? e.message : String(e);
  write(`${pc.red('internal error')}: ${msg}\n`);
  write(`  ${pc.dim('hint:')} this is a bug in gradsight; rerun with --debug and report the output\n`);
  if (debug && e instanceof Error && e.stack) write(`${e.stack}\n`);
  return EXIT_INTERNAL;
}

function causeChain(e: Error): string {
  let out = '';
  let c: unknown = e.cause;
  while (c instanceof Error) {
    out += `caused by: ${c.stack ?? c.message}\n`;
    c = c.cause;
  }
  return out;
}
