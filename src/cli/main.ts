import { Command, CommanderError } from 'commander';
import { ExitCode, exitCodeFor } from '../shared/errors.ts';
import { processIo, type Io } from './io.ts';
import { registerBackfill } from './backfill.ts';
import { registerDb } from './db.ts';
import { registerDemo } from './demo.ts';
import { registerEtl } from './etl.ts';
import { registerKlkSim } from './klk-sim.ts';
import { registerPlan } from './plan.ts';

/** A command's action: returns its exit code, or throws (UsageError, UnreachableError...). */
export type Action<A extends unknown[]> = (...args: A) => Promise<number | void>;

export interface Cli {
  program: Command;
  io: Io;
  /** Wraps an action so its exit code, or its error's, becomes the process's. */
  action<A extends unknown[]>(fn: Action<A>): (...args: A) => Promise<void>;
}

export function buildCli(io: Io = processIo): Cli & { exitCode(): number } {
  let code: number = ExitCode.ok;
  const program = new Command('ventas')
    .description('Mantiene completa la tabla ventas desde KLK: huecos, plan, backfill y verificación.')
    .showHelpAfterError('(use --help para ver las opciones)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  const cli: Cli = {
    program,
    io,
    action:
      (fn) =>
      async (...args) => {
        try {
          code = (await fn(...args)) ?? ExitCode.ok;
        } catch (error) {
          code = exitCodeFor(error);
          io.err(`error: ${(error as Error).message}`);
          if (code === ExitCode.partial && process.env.VENTAS_DEBUG) io.err(String((error as Error).stack));
        }
      },
  };
  registerEtl(cli);
  registerPlan(cli);
  registerBackfill(cli);
  registerKlkSim(cli);
  registerDemo(cli);
  registerDb(cli);
  return { ...cli, exitCode: () => code };
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const cli = buildCli(io);
  // Commander's own errors (unknown option, missing argument) are bad input too.
  cli.program.commands.forEach((c) => c.exitOverride());
  try {
    await cli.program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) {
        return ExitCode.ok;
      }
      if (error.code === 'commander.help') return ExitCode.ok;
      return ExitCode.badInput;
    }
    io.err(`error: ${(error as Error).message}`);
    return exitCodeFor(error);
  }
  return cli.exitCode();
}
