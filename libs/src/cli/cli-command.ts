/**
 * The frame of jobline's administration commands (`npm run tokens`, `npm run tenants`): the same exit codes, the
 * same answer to `--help` and to a bad command line, and a store opened only once the command line is valid, so that
 * a typo never waits on a database.
 */

export const EXIT_OK = 0;
/** The command names something that does not exist (a token to revoke, a limit to remove). */
export const EXIT_NOT_FOUND = 1;
export const EXIT_USAGE = 2;
/** The store failed. */
export const EXIT_FAILED = 3;

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A command line that does not say a valid command; its message is printed before the usage. */
export class UsageError extends Error {}

export interface CliProgram<C extends { name: string }, S> {
  /** The prefix of every error message, as in `tokens: unknown command frobnicate`. */
  name: string;
  usage: string;
  /** Reads the command line, throwing (a `UsageError` or anything else) with a message saying what is wrong. */
  parse(argv: string[]): C | { name: 'help' };
  /** Runs a valid command against the store and returns the exit code. */
  run(command: C, store: S, io: CliIo): Promise<number>;
}

/**
 * Runs one command line and returns the exit code: the usage on `help`, the usage after the message (`EXIT_USAGE`) on
 * a command line that `parse` refuses, else the command against the store, opened only then. What the store or the
 * command throws is the caller's to report.
 */
export async function runCliCommand<C extends { name: string }, S>(
  program: CliProgram<C, S>,
  argv: string[],
  openStore: () => Promise<S>,
  io: CliIo,
): Promise<number> {
  let command: C | { name: 'help' };
  try {
    command = program.parse(argv);
  } catch (err) {
    io.stderr.write(`${program.name}: ${(err as Error).message}\n\n${program.usage}`);
    return EXIT_USAGE;
  }
  if (command.name === 'help') {
    io.stdout.write(program.usage);
    return EXIT_OK;
  }
  return program.run(command as C, await openStore(), io);
}
