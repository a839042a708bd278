import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, type Argument, type Option } from 'commander';
import type { Db } from '../db/types.ts';
import { ExitCode, exitCodeFor } from '../shared/errors.ts';
import { processIo, type Io } from './io.ts';
import { registerCommands } from './commands.ts';

/** A command's action: returns its exit code, or throws (UsageError, UnreachableError...). */
export type Action<A extends unknown[]> = (...args: A) => Promise<number | void>;

/** Waits the commands make that tests shorten (in-process runs) instead of sitting through them. */
export interface CliLimits {
  /** How long a backfill waits for KLK's first answer before exit 3 (default 30 s). */
  klkFirstAnswerMs?: number;
  /** After Ctrl-C/SIGTERM, how long chunks in flight may take to finish (default 20 s). */
  interruptGraceMs?: number;
}

/** What a process running commands in itself (the tests' in-process runs) may provide in place of the defaults. */
export interface CliHost {
  /**
   * Opens a command's database, migrated, read-only when asked (a dry run). Default: openDb on DATABASE_URL or
   * ./.ventas/pgdata. A host can hand over a PGlite it keeps open, instead of each command opening the folder.
   */
  openDatabase?(options: { readOnly?: boolean }): Promise<Db>;
}

export interface Cli {
  program: Command;
  io: Io;
  /** The arguments as the user gave them (after `ventas`), for run histories that show a command to run again. */
  args: readonly string[];
  limits: CliLimits;
  host: CliHost;
  /** Wraps an action so its exit code, or its error's, becomes the process's. */
  action<A extends unknown[]>(fn: Action<A>): (...args: A) => Promise<void>;
}

/** Commander's own messages, as the rest of the tool speaks. */
const COMMANDER_MESSAGES: Array<[RegExp, string]> = [
  [/unknown option '([^']+)'/, "opción desconocida '$1'"],
  [/unknown command '([^']+)'/, "comando desconocido '$1'"],
  [/too many arguments.*/, 'demasiados argumentos'],
  [/missing required argument '([^']+)'/, "falta el argumento '$1'"],
  [/option '([^']+)' argument missing/, "a la opción '$1' le falta su valor"],
  [
    /option '([^']+)' argument '([^']*)' is invalid\. Allowed choices are (.*)\./,
    "valor '$2' inválido para '$1'. Valores permitidos: $3.",
  ],
  [/option '([^']+)' argument '([^']*)' is invalid\./, "valor '$2' inválido para '$1'."],
  [/\(Did you mean (.*)\?\)/, '(¿quiso decir $1?)'],
];

function inSpanish(message: string): string {
  return COMMANDER_MESSAGES.reduce((text, [pattern, spanish]) => text.replace(pattern, spanish), message);
}

/** Commander's help headings and notes, in Spanish too (subcommands inherit this). */
const HELP_TITLES: Record<string, string> = {
  'Usage:': 'Uso:',
  'Options:': 'Opciones:',
  'Commands:': 'Comandos:',
  'Arguments:': 'Argumentos:',
  'Global Options:': 'Opciones globales:',
};
const helpNotes = (text: string) =>
  text
    .replace(/\(choices: /, '(valores: ')
    .replace(/\bdefault: /, 'por defecto: ')
    .replace(/\bpreset: /, 'sin valor: ');
const spanishHelp: Partial<Help> = {
  styleTitle: (title: string) => HELP_TITLES[title] ?? title,
  styleUsage: (usage: string) => usage.replace('[options]', '[opciones]').replace('[command]', '[comando]'),
  subcommandTerm(this: Help, command: Command) {
    return Help.prototype.subcommandTerm.call(this, command).replace('[options]', '[opciones]');
  },
  optionDescription(this: Help, option: Option) {
    return helpNotes(Help.prototype.optionDescription.call(this, option));
  },
  argumentDescription(this: Help, argument: Argument) {
    return helpNotes(Help.prototype.argumentDescription.call(this, argument));
  },
};

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

export function buildCli(
  io: Io = processIo,
  args: readonly string[] = [],
  limits: CliLimits = {},
  host: CliHost = {},
): Cli & { exitCode(): number } {
  let code: number = ExitCode.ok;
  const program = new Command('ventas')
    .description('Mantiene completa la tabla ventas desde KLK: huecos, plan, backfill y verificación.')
    .showHelpAfterError('(use --help para ver las opciones)')
    .version(VERSION, '-V, --version', 'muestra la versión de ventas')
    .helpOption('-h, --help', 'muestra esta ayuda')
    .helpCommand('help [comando]', 'muestra la ayuda de un comando')
    .configureHelp(spanishHelp)
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(inSpanish(s)),
    })
    .exitOverride();
  const cli: Cli = {
    program,
    io,
    args,
    limits,
    host,
    action:
      (fn) =>
      async (...args) => {
        let debug = false;
        try {
          // Loaded here, not with this module: --help and --version start without zod, and read no environment.
          const [{ parseEnv, withEnv }, { now }] = await Promise.all([
            import('../shared/env.ts'),
            import('../shared/clock.ts'),
          ]);
          // The command's environment, read once before it does anything: a bad value is bad input for every command.
          const env = parseEnv();
          debug = env.VENTAS_DEBUG;
          code = await withEnv(env, async () => {
            // Announced, so simulated time is never taken for real.
            const clock = env.VENTAS_CLOCK;
            if (clock) io.err(`Reloj simulado (VENTAS_CLOCK): ahora ${now().toISOString()}, velocidad x${clock.speed}`);
            return (await fn(...args)) ?? ExitCode.ok;
          });
        } catch (error) {
          code = exitCodeFor(error);
          io.err(`error: ${(error as Error).message}`);
          if (code === ExitCode.partial && debug) io.err(String((error as Error).stack));
        }
      },
  };
  registerCommands(cli);
  return { ...cli, exitCode: () => code };
}

export async function main(
  argv: string[],
  io: Io = processIo,
  limits: CliLimits = {},
  host: CliHost = {},
): Promise<number> {
  const cli = buildCli(io, argv.slice(2), limits, host);
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
