/**
 * The cost model of one KLK request and of loading its answer, each seconds = base + per1000 x lines / 1000, fitted
 * on the requests this database has recorded. Pure: its callers read the samples (`readPlanEvidence`) and pass them in.
 */
import { DEFAULT_LOAD_TIMING, DEFAULT_TIMING } from './plan.ts';

export interface Timing {
  baseSeconds: number;
  secondsPer1000Lines: number;
}

/** `default`: no request recorded yet (4 s + 2.5 s per 1,000 lines); `fitted`: made from the recorded requests. */
export type TimingModelKind = 'default' | 'fitted';

export interface TimingModel extends Timing {
  model: TimingModelKind;
  /** Recorded requests the model was made from. */
  samples: number;
}

/** The request model and, apart, the model of loading an answer (which the backfill overlaps with other requests). */
export interface CostModel extends TimingModel {
  load: Timing;
}

export interface TimingSample {
  lines: number;
  seconds: number;
}

/** A recorded request: its KLK time and, when its answer was loaded and the load timed, the load's. */
export interface RequestSample extends TimingSample {
  loadSeconds: number | null;
}

/** Both models from the recorded requests; the load's from those whose load was timed, else its default. */
export function fitCostModel(samples: readonly RequestSample[]): CostModel {
  const loads = samples.flatMap((s) => (s.loadSeconds === null ? [] : [{ lines: s.lines, seconds: s.loadSeconds }]));
  const load = fitTiming(loads, DEFAULT_LOAD_TIMING);
  return {
    ...fitTiming(samples),
    load: { baseSeconds: load.baseSeconds, secondsPer1000Lines: load.secondsPer1000Lines },
  };
}

/** How far the prior lets each term move: its standard deviation is this share of its own value (a weak prior). */
const PRIOR_SPREAD = 1;
/** Two samples fit any line exactly and say nothing of their noise: assume each is this share off. */
const ASSUMED_NOISE = 0.1;
/** Durations are recorded in whole milliseconds: no fit is more precise than that. */
const TIMER_SECONDS = 0.001;

/**
 * A cost model from recorded (lines, seconds) pairs, never discarded: `defaults` with no sample, else a
 * least-squares fit constrained to base >= 0 and per-line >= 0 (when the free optimum breaks a bound, the best fit
 * on that bound).
 *
 * A few samples pin a KLK's speed well but can tilt its split between base and per-line cost (a 30,000-line chunk
 * multiplies any slope error), and samples all of one size cannot split it at all. So the fit is regularised by a
 * weak prior: the default's shape scaled to the samples' own speed (never the default itself, which can be hundreds
 * of times off), each term free to move by its own size. Its weight against the data follows the data's noise: a
 * handful of consistent requests override it, noisy or same-sized ones lean on it.
 */
export function fitTiming(samples: readonly TimingSample[], defaults: Timing = DEFAULT_TIMING): TimingModel {
  const n = samples.length;
  if (n === 0)
    return {
      baseSeconds: defaults.baseSeconds,
      secondsPer1000Lines: defaults.secondsPer1000Lines,
      model: 'default',
      samples: 0,
    };
  const xs = samples.map((s) => s.lines / 1000);
  const ys = samples.map((s) => Math.max(0, s.seconds));
  const sx = sum(xs);
  const sxx = sum(xs.map((x) => x * x));
  const sy = sum(ys);
  const sxy = sum(xs.map((x, i) => x * ys[i]!));
  const meanY = sy / n;
  if (meanY === 0) return { baseSeconds: 0, secondsPer1000Lines: 0, model: 'fitted', samples: n };

  // The prior: the default's shape times the factor that fits the samples best.
  const predicted = xs.map((x) => defaults.baseSeconds + defaults.secondsPer1000Lines * x);
  const factor = sum(ys.map((y, i) => y * predicted[i]!)) / sum(predicted.map((d) => d * d));
  const prior = { a: defaults.baseSeconds * factor, b: defaults.secondsPer1000Lines * factor };
  const priorPrecision = { a: 1 / (PRIOR_SPREAD * prior.a) ** 2, b: 1 / (PRIOR_SPREAD * prior.b) ** 2 };

  // The samples' noise, from the residuals of the free fit when there are enough of them.
  const spread = sxx - (sx * sx) / n;
  let variance = (ASSUMED_NOISE * meanY) ** 2;
  if (n >= 3) {
    const free = spread > 1e-12 * sxx ? freeFit(xs, ys) : { a: meanY, b: 0 };
    const sse = sum(xs.map((x, i) => (ys[i]! - free.a - free.b * x) ** 2));
    variance = Math.max(sse / (n - (spread > 1e-12 * sxx ? 2 : 1)), TIMER_SECONDS ** 2);
  }

  // Minimise sse / variance + the prior's penalty: a quadratic with Hessian H and unconstrained optimum m.
  const h = { aa: n / variance + priorPrecision.a, ab: sx / variance, bb: sxx / variance + priorPrecision.b };
  const g = { a: sy / variance + priorPrecision.a * prior.a, b: sxy / variance + priorPrecision.b * prior.b };
  const det = h.aa * h.bb - h.ab * h.ab;
  const m = { a: (h.bb * g.a - h.ab * g.b) / det, b: (h.aa * g.b - h.ab * g.a) / det };
  return { ...rounded(bounded(m, h)), model: 'fitted', samples: n };
}

/** Ordinary least squares (the samples have more than one size). */
function freeFit(xs: readonly number[], ys: readonly number[]): { a: number; b: number } {
  const mx = sum(xs) / xs.length;
  const my = sum(ys) / ys.length;
  const b = sum(xs.map((x, i) => (x - mx) * (ys[i]! - my))) / sum(xs.map((x) => (x - mx) ** 2));
  return { a: my - b * mx, b };
}

/**
 * The optimum under a >= 0 and b >= 0 of the convex quadratic (t - m)' H (t - m): m itself when it is feasible;
 * otherwise the optimum lies on a bound, the better of the two one-term optima (each clamped at 0).
 */
function bounded(m: { a: number; b: number }, h: { aa: number; ab: number; bb: number }): Timing {
  if (m.a >= 0 && m.b >= 0) return { baseSeconds: m.a, secondsPer1000Lines: m.b };
  const cost = (a: number, b: number) => {
    const da = a - m.a;
    const db = b - m.b;
    return h.aa * da * da + 2 * h.ab * da * db + h.bb * db * db;
  };
  const onA = Math.max(0, m.b + (h.ab / h.bb) * m.a); // a = 0
  const onB = Math.max(0, m.a + (h.ab / h.aa) * m.b); // b = 0
  return cost(0, onA) <= cost(onB, 0)
    ? { baseSeconds: 0, secondsPer1000Lines: onA }
    : { baseSeconds: onB, secondsPer1000Lines: 0 };
}

function rounded(t: Timing): Timing {
  // To the tenth of a millisecond: a fast KLK's per-line cost is a few milliseconds.
  const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
  return { baseSeconds: round4(t.baseSeconds), secondsPer1000Lines: round4(t.secondsPer1000Lines) };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
