// The gradsight command line: one Command per file under commands/, errors reported by errors.ts.

import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import { EXIT_USAGE, reportError } from './errors.ts';
import { Interrupted } from './interrupt.ts';

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

type CommandFactory = (io: CliIo) => Command;

/**
 * The commands in the order help lists them, each loaded only when used: `gradsight explain` does not
 * pay for eval's or serve's modules at start-up.
 */
const COMMANDS: Record<string, () => Promise<CommandFactory>> = {
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  explain: async () => (await import('./commands/explain.ts')).explainCommand,
  inspect: async () => (await import('./commands/inspect.ts')).inspectCommand,
  predict: async () => (await import('./commands/predict.ts')).predictCommand,
  grad: async () => (await import('./commands/grad.ts')).gradCommand,
  layers: async () => (await import('./commands/layers.ts')).layersCommand,
  compile: async () => (await import('./commands/compile.ts')).compileCommand,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  serve: async () => (await import('./commands/serve.ts')).serveCommand,
};

/** The command argv names (its first word that is not an option), or every command (help, typos). */
function commandsFor(argv: readonly string[]): string[] {
  const word = argv.slice(2).find((a) => !a.startsWith('-'));
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? [word] : Object.keys(COMMANDS);
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
  for (const name of commandsFor(argv)) program.addCommand((await COMMANDS[name]!())(io));
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
