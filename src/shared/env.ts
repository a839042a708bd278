/**
 * Every environment variable `ventas` reads, in one zod schema: parsed once per command (cli/main.ts parses it as the
 * command starts and `withEnv` keeps it for everything the command does), a bad value being bad input (exit 2) for
 * every command, as a bad config file is. Per command and not per process: the CLI tests run commands in their own
 * process one after another, each with its environment set for the run and restored after it.
 */
import { isValidDate } from './dates.ts';
import { UsageError } from './errors.ts';
import { z } from './zod.ts';

/** `VENTAS_CLOCK=START,EPOCH_MS,SPEED` (tests and demos only, spec section 11): `now = START + (Date.now() - EPOCH_MS) x SPEED`. */
export interface SimulatedClock {
  /** The simulated instant at `epochMs`. */
  start: Date;
  /** The real Unix time (ms) at which the simulated clock reads `start`. */
  epochMs: number;
  /** Simulated milliseconds per real millisecond (0 stops the clock at `start`). */
  speed: number;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function badClock(value: string, problem: string): UsageError {
  return new UsageError(
    `VENTAS_CLOCK inválido: "${value}" (${problem}). Se espera START,EPOCH_MS,SPEED: START una hora ISO con zona ` +
      '(p. ej. 2026-01-26T10:00:00-04:00), EPOCH_MS un instante Unix en milisegundos (p. ej. 1769436000000) y SPEED ' +
      'un factor mayor o igual que 0 (1 = tiempo real, 60 = un minuto por segundo, 0 = reloj detenido)',
  );
}

/** Parses a `VENTAS_CLOCK` value; a bad one is bad input (exit 2) that says what is expected. */
export function parseClock(value: string): SimulatedClock {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 3) throw badClock(value, 'se esperan tres valores separados por coma');
  const [start, epoch, speed] = parts as [string, string, string];
  const startMs = ISO_WITH_OFFSET.test(start) && isValidDate(start.slice(0, 10)) ? Date.parse(start) : Number.NaN;
  if (Number.isNaN(startMs)) throw badClock(value, `START "${start}" no es una hora ISO con zona`);
  if (!/^\d+$/.test(epoch) || !Number.isSafeInteger(Number(epoch)))
    throw badClock(value, `EPOCH_MS "${epoch}" no es un entero de milisegundos`);
  const factor = /^\d+(\.\d+)?$/.test(speed) ? Number(speed) : Number.NaN;
  if (!Number.isFinite(factor)) throw badClock(value, `SPEED "${speed}" no es un número mayor o igual que 0`);
  return { start: new Date(startMs), epochMs: Number(epoch), speed: factor };
}

/** The clock a `VENTAS_CLOCK` value asks for: null (the system clock) when unset or blank. */
export function clockSetting(value: string | undefined): SimulatedClock | null {
  return value === undefined || value.trim() === '' ? null : parseClock(value);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Set and not empty, else absent: `X=` in a shell means "not given" for these. */
const given = z
  .string()
  .optional()
  .transform((value) => value || undefined);

/** Each message names its variable: it is shown as is, after `error: `. */
export const envSchema = z.object({
  /** The config file, when `--config` is not given. */
  VENTAS_CONFIG: given,
  /** PostgreSQL; absent, the embedded PGlite under ./.ventas/. */
  DATABASE_URL: given,
  /** Kept as given: an empty one is an invalid URL, said as such (cli/context.ts), not the default. */
  KLK_BASE_URL: z.string().optional(),
  KLK_API_TOKEN: given,
  /** Checked by `ventas serve`, the only command that uses it (web/access.ts). */
  VENTAS_API_TOKEN: given,
  VENTAS_CLOCK: z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        return clockSetting(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Any value: a failure's stack goes to stderr too. */
  VENTAS_DEBUG: z
    .string()
    .optional()
    .transform((value) => Boolean(value)),
  LOG_DIR: z.string().default('logs'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, {
      error: (issue) =>
        `LOG_LEVEL inválido: "${String(issue.input)}" (se espera ${LOG_LEVELS.slice(0, -1).join(', ')} o silent)`,
    })
    .default('info'),
  /** The user a PostgreSQL URL without one connects as, as libpq would (named in messages). */
  PGUSER: given,
});

export type Env = z.output<typeof envSchema>;

/** Parses an environment; bad values are one UsageError (exit 2), a line per variable. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  throw new UsageError(
    result.error.issues
      .map((issue) => {
        const name = String(issue.path[0] ?? '');
        return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
      })
      .join('\n'),
  );
}

/** The environment of the command running now; set by `withEnv`. */
let current: Env | undefined;
/** The environments of the commands still running (an outer one is only restored while it runs). */
const running = new Set<Env>();

/**
 * The environment: the one parsed when the running command started, else (library use, tests) process.env as it
 * is now.
 */
export function env(): Env {
  return current ?? parseEnv();
}

/** Runs a command with `parsed` as its environment, for everything it does until it returns. */
export async function withEnv<T>(parsed: Env, command: () => Promise<T>): Promise<T> {
  // Nested (the demo runs its daemon's day on a simulated clock inside its own command): the outer one comes back.
  const outer = current;
  current = parsed;
  running.add(parsed);
  try {
    return await command();
  } finally {
    running.delete(parsed);
    // Two commands at once in one process (tests only) share process.env anyway: the last to end clears it.
    if (current === parsed) current = outer && running.has(outer) ? outer : undefined;
  }
}
