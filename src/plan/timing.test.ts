import { describe, expect, it } from 'vitest';
import { random } from '../../test/support/random.ts';
import { fitCostModel, fitTiming, type TimingSample } from './timing.ts';

const at = (model: { baseSeconds: number; secondsPer1000Lines: number }, lines: number) =>
  model.baseSeconds + (model.secondsPer1000Lines * lines) / 1000;

/** Samples of a KLK that costs base + per1000 x lines / 1000, each off by up to ±noise of itself. */
function samplesOf(
  n: number,
  base: number,
  per1000: number,
  noise: number,
  seed = 1,
  maxLines = 30_000,
): TimingSample[] {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const lines = Math.round(next() * maxLines);
    return { lines, seconds: (base + (per1000 * lines) / 1000) * (1 + noise * (2 * next() - 1)) };
  });
}

describe('fitTiming', () => {
  it('is the default (4 s + 2.5 s per 1,000 lines) with no recorded request', () => {
    expect(fitTiming([])).toEqual({ baseSeconds: 4, secondsPer1000Lines: 2.5, model: 'default', samples: 0 });
  });

  it('fits exact data exactly', () => {
    const fit = fitTiming([0, 1_000, 5_000, 20_000].map((lines) => ({ lines, seconds: 0.15 + (0.04 * lines) / 1000 })));
    expect(fit).toMatchObject({ model: 'fitted', samples: 4 });
    expect(fit.baseSeconds).toBeCloseTo(0.15, 3);
    expect(fit.secondsPer1000Lines).toBeCloseTo(0.04, 3);
  });

  it('bounds a negative intercept at 0 with the best slope on that bound, instead of discarding the fit', () => {
    // The PostgreSQL: 289 requests of a fast KLK whose free fit crosses below zero (-10 ms).
    const samples = samplesOf(289, 0, 0.02, 0.02, 3).map((s) => ({ ...s, seconds: s.seconds - 0.01 }));
    const fit = fitTiming(samples);
    expect(fit).toMatchObject({ model: 'fitted', samples: 289, baseSeconds: 0 });
    const throughOrigin =
      samples.reduce((n, s) => n + (s.lines / 1000) * s.seconds, 0) /
      samples.reduce((n, s) => n + (s.lines / 1000) ** 2, 0);
    expect(fit.secondsPer1000Lines).toBeCloseTo(throughOrigin, 3);
    // A 30,000-line chunk: ~0.6 s, not the default's 79 s.
    expect(at(fit, 30_000)).toBeGreaterThan(0.5);
    expect(at(fit, 30_000)).toBeLessThan(0.7);
  });

  it('bounds a negative slope at 0: a flat model at the mean', () => {
    const samples = [0, 1_000, 2_000, 3_000].map((lines, i) => ({ lines, seconds: 1 - 0.1 * i }));
    const fit = fitTiming(samples);
    expect(fit.secondsPer1000Lines).toBe(0);
    expect(fit.baseSeconds).toBeCloseTo(0.85, 2);
  });

  it('uses a few samples of a fast KLK instead of a default hundreds of times off', () => {
    // The PGlite: 19 samples were below the old threshold of 20 and the plan said ~4 h 50 min for 32 s.
    const truth = { baseSeconds: 0.01, secondsPer1000Lines: 0.013 };
    for (const n of [1, 3, 19]) {
      const fit = fitTiming(samplesOf(n, truth.baseSeconds, truth.secondsPer1000Lines, 0.2, n, 5_000));
      expect(fit).toMatchObject({ model: 'fitted', samples: n });
      const ratio = at(fit, 30_000) / at(truth, 30_000);
      expect(ratio, `${n} muestras`).toBeGreaterThan(0.5);
      expect(ratio, `${n} muestras`).toBeLessThan(2);
    }
  });

  it("splits the speed of samples all of one size in the default's proportions", () => {
    const fit = fitTiming([0.05, 0.06, 0.07].map((seconds) => ({ lines: 1_000, seconds })));
    expect(at(fit, 1_000)).toBeCloseTo(0.06, 2);
    expect(fit.baseSeconds / fit.secondsPer1000Lines).toBeCloseTo(4 / 2.5, 1);
  });

  it('recovers a KLK from noisy data', () => {
    const fit = fitTiming(samplesOf(200, 4, 2.5, 0.3, 7));
    expect(fit.baseSeconds).toBeGreaterThan(3);
    expect(fit.baseSeconds).toBeLessThan(5);
    expect(fit.secondsPer1000Lines).toBeGreaterThan(2.3);
    expect(fit.secondsPer1000Lines).toBeLessThan(2.7);
  });

  it('lets consistent data override the prior: a shape far from the default is kept', () => {
    // The simulator at --latency-ms 100,1500: the per-line cost is 15 times the base, the default's is 0.6 times.
    const fit = fitTiming(samplesOf(8, 0.1, 1.5, 0.03, 11, 1_000));
    expect(fit.baseSeconds).toBeCloseTo(0.1, 1);
    expect(fit.secondsPer1000Lines).toBeGreaterThan(1.4);
    expect(fit.secondsPer1000Lines).toBeLessThan(1.6);
  });

  it('never gives a negative term, whatever the samples', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const samples = Array.from({ length: 1 + Math.floor(next() * 10) }, () => ({
        lines: Math.round(next() * 10_000),
        seconds: next() * 5,
      }));
      const fit = fitTiming(samples);
      expect(fit.baseSeconds).toBeGreaterThanOrEqual(0);
      expect(fit.secondsPer1000Lines).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(fit.baseSeconds + fit.secondsPer1000Lines)).toBe(true);
    }
    expect(
      fitTiming([
        { lines: 0, seconds: 0 },
        { lines: 100, seconds: 0 },
      ]),
    ).toMatchObject({ baseSeconds: 0, secondsPer1000Lines: 0 });
  });
});

describe('fitCostModel', () => {
  it('fits the loads apart, on the requests whose load was timed', () => {
    const samples = [1_000, 5_000, 20_000, 30_000].map((lines, i) => ({
      lines,
      seconds: 0.15 + (0.04 * lines) / 1000,
      loadSeconds: i === 0 ? null : 0.01 + (0.02 * lines) / 1000, // recorded before loads were timed
    }));
    const model = fitCostModel(samples);
    expect(model).toMatchObject({ model: 'fitted', samples: 4 });
    expect(model.secondsPer1000Lines).toBeCloseTo(0.04, 3);
    expect(model.load.baseSeconds).toBeCloseTo(0.01, 3);
    expect(model.load.secondsPer1000Lines).toBeCloseTo(0.02, 3);
  });

  it('assumes the default load (0.02 s + 0.015 s per 1,000 lines) before any load was timed', () => {
    expect(fitCostModel([]).load).toEqual({ baseSeconds: 0.02, secondsPer1000Lines: 0.015 });
    expect(fitCostModel([{ lines: 1_000, seconds: 0.1, loadSeconds: null }]).load).toEqual({
      baseSeconds: 0.02,
      secondsPer1000Lines: 0.015,
    });
  });
});
