/** Exit codes of spec section 1: 0 done, 1 done with failures, 2 bad input, 3 dependency unreachable. */
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
  constructor(
    message: string,
    readonly dependency: 'database' | 'klk',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.badInput;
  if (error instanceof UnreachableError) return ExitCode.unreachable;
  return ExitCode.partial;
}
