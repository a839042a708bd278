import type { Queryable } from '../db/types.ts';
import { DEFAULT_TIMING } from './plan.ts';

export interface Timing {
  baseSeconds: number;
  secondsPer1000Lines: number;
}

/** Requests needed before the recorded durations replace the default model. */
const MIN_SAMPLES = 20;

/**
 * The cost model of a KLK request, fitted by least squares on recorded (lines, seconds) pairs: seconds = base +
 * per1000 x lines / 1000. Falls back to the default (4 s + 2.5 s per 1,000 lines) when there is too little history
 * or the fit is not physical (negative terms).
 */
export function fitTiming(samples: ReadonlyArray<{ lines: number; seconds: number }>): Timing & { samples: number; fitted: boolean } {
  const n = samples.length;
  const fallback = { ...DEFAULT_TIMING, samples: n, fitted: false };
  if (n < MIN_SAMPLES) return fallback;
  const mx = samples.reduce((s, p) => s + p.lines / 1000, 0) / n;
  const my = samples.reduce((s, p) => s + p.seconds, 0) / n;
  const sxx = samples.reduce((s, p) => s + (p.lines / 1000 - mx) ** 2, 0);
  const sxy = samples.reduce((s, p) => s + (p.lines / 1000 - mx) * (p.seconds - my), 0);
  if (sxx === 0) return fallback;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  if (slope < 0 || intercept < 0) return fallback;
  return { baseSeconds: round3(intercept), secondsPer1000Lines: round3(slope), samples: n, fitted: true };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The latest successful whole-answer requests, newest first. */
export async function readTimingSamples(db: Queryable, limit = 500): Promise<Array<{ lines: number; seconds: number }>> {
  const { rows } = await db.query<{ lines: number; ms: number }>(
    `SELECT lines, duration_ms AS ms FROM klk_requests WHERE outcome IN ('ok', 'empty') ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ lines: r.lines, seconds: r.ms / 1000 }));
}
