/** Exit codes (README, "Comandos"): 0 done, 1 done with failures, 2 bad input, 3 dependency unreachable. */
export const ExitCode = {
  ok: 0,
  partial: 1,
  badInput: 2,
  unreachable: 3,
} as const;

/** Bad input from the user (flags, config, schema): exit 2, nothing written. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A dependency (database, KLK) cannot be reached: exit 3. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  /** Which server and what went wrong, without advice (e.g. "PostgreSQL en host:5432/ventas: conexión rechazada"). */
  readonly detail: string;
  constructor(
    message: string,
    readonly dependency: 'database' | 'klk',
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message, options);
    this.detail = options?.detail ?? message;
  }
}

/** The database went away (or never answered): what a command may wait out, and otherwise stops on with exit 3. */
export function isDatabaseLost(error: unknown): error is UnreachableError {
  return error instanceof UnreachableError && error.dependency === 'database';
}

/**
 * The database lost in the middle of work whose progress is saved: exit 3 saying what stopped and the exact command
 * that picks it up again once PostgreSQL is back (e.g. "el backfill #3", "npx ventas backfill --resume 3").
 */
export function databaseLostDuring(error: UnreachableError, work: string, resume: string): UnreachableError {
  return new UnreachableError(
    `se perdió la conexión con la base de datos (${error.detail}): ${work} se detiene con lo hecho guardado. ` +
      `Cuando PostgreSQL vuelva, ${resume}`,
    'database',
    { cause: error, detail: error.detail },
  );
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.badInput;
  if (error instanceof UnreachableError) return ExitCode.unreachable;
  return ExitCode.partial;
}
