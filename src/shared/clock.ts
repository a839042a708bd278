/**
 * What time it is for `ventas`. Normally the system clock; with `VENTAS_CLOCK=START,EPOCH_MS,SPEED` (tests and
 * demos only) a simulated one: `now = START + (Date.now() - EPOCH_MS) x SPEED`, so two processes
 * given the same value share one clock.
 */
import { isValidDate } from './dates.ts';
import { UsageError } from './errors.ts';

export interface SimulatedClock {
  /** The simulated instant at `epochMs`. */
  start: Date;
  /** The real Unix time (ms) at which the simulated clock reads `start`. */
  epochMs: number;
  /** Simulated milliseconds per real millisecond (0 stops the clock at `start`). */
  speed: number;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function usage(value: string, problem: string): UsageError {
  return new UsageError(
    `VENTAS_CLOCK inválido: "${value}" (${problem}). Se espera START,EPOCH_MS,SPEED: START una hora ISO con zona ` +
      '(p. ej. 2026-01-26T10:00:00-04:00), EPOCH_MS un instante Unix en milisegundos (p. ej. 1769436000000) y SPEED ' +
      'un factor mayor o igual que 0 (1 = tiempo real, 60 = un minuto por segundo, 0 = reloj detenido)',
  );
}

/** Parses a `VENTAS_CLOCK` value; a bad one is bad input (exit 2) that says what is expected. */
export function parseClock(value: string): SimulatedClock {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 3) throw usage(value, 'se esperan tres valores separados por coma');
  const [start, epoch, speed] = parts as [string, string, string];
  const startMs = ISO_WITH_OFFSET.test(start) && isValidDate(start.slice(0, 10)) ? Date.parse(start) : Number.NaN;
  if (Number.isNaN(startMs)) throw usage(value, `START "${start}" no es una hora ISO con zona`);
  if (!/^\d+$/.test(epoch) || !Number.isSafeInteger(Number(epoch))) throw usage(value, `EPOCH_MS "${epoch}" no es un entero de milisegundos`);
  const factor = /^\d+(\.\d+)?$/.test(speed) ? Number(speed) : Number.NaN;
  if (!Number.isFinite(factor)) throw usage(value, `SPEED "${speed}" no es un número mayor o igual que 0`);
  return { start: new Date(startMs), epochMs: Number(epoch), speed: factor };
}

let cached: { value: string; clock: SimulatedClock } | null = null;

/** The simulated clock `VENTAS_CLOCK` asks for, or null for the system clock. Throws UsageError on a bad value. */
export function simulatedClock(env: NodeJS.ProcessEnv = process.env): SimulatedClock | null {
  const value = env.VENTAS_CLOCK;
  if (value === undefined || value.trim() === '') return null;
  if (cached?.value !== value) cached = { value, clock: parseClock(value) };
  return cached.clock;
}

/** The current instant: the system clock, or the simulated one of `VENTAS_CLOCK`. */
export function now(env: NodeJS.ProcessEnv = process.env): Date {
  const clock = simulatedClock(env);
  if (!clock) return new Date();
  return new Date(clock.start.getTime() + (Date.now() - clock.epochMs) * clock.speed);
}
