// The gradsight command line: one Command per file under commands/, errors reported by errors.ts.

import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import { compileCommand } from './commands/compile.ts';
import { demoCommand } from './commands/demo.ts';
import { evalCommand } from './commands/eval.ts';
import { explainCommand } from './commands/explain.ts';
import { gradCommand } from './commands/grad.ts';
import { inspectCommand } from './commands/inspect.ts';
import { layersCommand } from './commands/layers.ts';
import { predictCommand } from './commands/predict.ts';
import { serveCommand } from './commands/serve.ts';
import { EXIT_USAGE, reportError } from './errors.ts';
import { Interrupted } from './interrupt.ts';

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const stdio: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export async function main(argv: readonly string[], io: CliIo = stdio): Promise<number> {
  const debug = argv.includes('--debug');
  const program = new Command('gradsight')
    .description('See what an image model looks at: Grad-CAM and friends for ONNX models')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  program.addCommand(demoCommand(io));
  program.addCommand(explainCommand(io));
  program.addCommand(inspectCommand(io));
  program.addCommand(predictCommand(io));
  program.addCommand(gradCommand(io));
  program.addCommand(layersCommand(io));
  program.addCommand(compileCommand(io));
  program.addCommand(evalCommand(io));
  program.addCommand(serveCommand(io));
  for (const c of program.commands) {
    c.exitOverride()
      .showHelpAfterError(`(run gradsight ${c.name()} --help for usage)`)
      .configureOutput({ writeOut: io.out, writeErr: io.err });
  }
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      // A custom option parser's GradsightError arrives wrapped: report it like any typed error.
      if (e.cause !== undefined) return reportError(e.cause, debug, io.err);
      return EXIT_USAGE;
    }
    if (e instanceof Interrupted) {
      io.err(`${e.message}\n`);
      return e.exitCode;
    }
    return reportError(e, debug, io.err);
  }
}

// Run directly (node --import tsx src/cli/main.ts ...), as the tests do.
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportError(e, true, (s) => process.stderr.write(s));
    },
  );
}
