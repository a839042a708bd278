/**
 * What time it is for `ventas`. Normally the system clock; with `VENTAS_CLOCK=START,EPOCH_MS,SPEED` (tests and
 * demos only) a simulated one: `now = START + (Date.now() - EPOCH_MS) x SPEED`, so two processes given the same
 * value share one clock. The value is parsed with the rest of the environment (env.ts).
 */
import { clockSetting, env, type SimulatedClock } from './env.ts';

export { parseClock, type SimulatedClock } from './env.ts';

/**
 * The simulated clock `VENTAS_CLOCK` asks for, or null for the system clock: the running command's, or the one in
 * `source` when given. Throws UsageError on a bad value.
 */
export function simulatedClock(source?: { VENTAS_CLOCK?: string }): SimulatedClock | null {
  return source ? clockSetting(source.VENTAS_CLOCK) : env().VENTAS_CLOCK;
}

/** The current instant: the system clock, or the simulated one of `VENTAS_CLOCK`. */
export function now(source?: { VENTAS_CLOCK?: string }): Date {
  const clock = simulatedClock(source);
  if (!clock) return new Date();
  return new Date(clock.start.getTime() + (Date.now() - clock.epochMs) * clock.speed);
}
