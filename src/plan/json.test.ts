import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/errors.ts';
import { parsePlanJson, shellQuote, stepCommand, toPlanJson } from './json.ts';
import { buildPlan, planChunks } from './plan.ts';
import { seedPlanInput } from '../../test/fixtures/seed.ts';

const plan = buildPlan(seedPlanInput());

describe('toPlanJson', () => {
  const json = toPlanJson(plan);

  it('has the shape of the plan JSON: window, phases of steps, totals with the estimate model', () => {
    expect(Object.keys(json)).toEqual(['from', 'to', 'phases', 'totals']);
    expect(json.from).toBe('2025-10-28');
    expect(json.to).toBe('2026-01-25');
    expect(json.phases.map((p) => p.phase)).toEqual([1, 2, 3]);
    for (const phase of json.phases) {
      expect(Object.keys(phase)).toEqual(['phase', 'title', 'steps']);
      for (const step of phase.steps) {
        expect(Object.keys(step)).toEqual([
          'stores',
          'from',
          'to',
          'chunkDays',
          'storeDays',
          'requests',
          'estimatedSeconds',
          'command',
        ]);
        expect(step.from).toMatch(/^\d{4}-\d{2}-\d{2} 00:00$/);
        expect(step.to).toMatch(/^\d{4}-\d{2}-\d{2} 23:59$/);
      }
    }
    expect(Object.keys(json.totals)).toEqual([
      'requests',
      'storeDays',
      'missingStoreDays',
      'overFetchRatio',
      'estimatedSeconds',
      'estimate',
    ]);
    expect(json.totals).toEqual(plan.totals);
    expect(json.totals.estimate).toEqual({
      model: 'default',
      samples: 0,
      baseSeconds: 4,
      secondsPer1000Lines: 2.5,
      loadBaseSeconds: 0.02,
      loadSecondsPer1000Lines: 0.015,
      concurrency: 3,
    });
  });

  it('gives each step its seed-style command', () => {
    const step = json.phases[0]!.steps.find((s) => s.stores.includes('tienda_11'))!;
    expect(step.command).toBe(
      'ventas etl --tiendas tienda_11 --fecha-desde "2026-01-10 00:00" --fecha-hasta "2026-01-24 23:59" --chunk-days 5',
    );
    expect(toPlanJson(plan, 'npx ventas').phases[0]!.steps[0]!.command).toMatch(
      /^npx ventas etl --tiendas tienda_\d+ tienda_\d+/,
    );
  });

  it('survives JSON and reads back into the same chunks', () => {
    const back = parsePlanJson(JSON.stringify(json));
    expect(back).toEqual(json);
    expect(planChunks(back)).toEqual(planChunks(plan));
  });

  it('reads back a plan saved before the totals said which model they used', () => {
    const { estimate: _, ...older } = json.totals;
    const back = parsePlanJson(JSON.stringify({ ...json, totals: older }));
    expect(back.totals.estimate).toBeUndefined();
    expect(planChunks(back)).toEqual(planChunks(plan));
  });
});

describe('parsePlanJson', () => {
  const valid = toPlanJson(plan);
  const withFirstStep = (patch: Record<string, unknown>) =>
    JSON.stringify({ ...valid, phases: [{ ...valid.phases[0], steps: [{ ...valid.phases[0]!.steps[0], ...patch }] }] });

  it.each([
    ['not JSON', '{', /no es JSON válido/],
    [
      'a partial-day window',
      withFirstStep({ to: '2026-01-25 12:00' }),
      /phases\.0\.steps\.0\.to: se espera "YYYY-MM-DD 23:59"/,
    ],
    ['an impossible date', withFirstStep({ from: '2026-02-30 00:00' }), /phases\.0\.steps\.0\.from/],
    ['a zero chunk', withFirstStep({ chunkDays: 0 }), /chunkDays/],
    ['a step without stores', withFirstStep({ stores: [] }), /stores/],
    ['a window backwards', withFirstStep({ from: '2026-01-26 00:00' }), /from es posterior a to/],
    [
      'an unknown model',
      JSON.stringify({
        ...valid,
        totals: { ...valid.totals, estimate: { ...valid.totals.estimate, model: 'guessed' } },
      }),
      /totals\.estimate\.model/,
    ],
  ])('rejects %s as bad input', (_, text, message) => {
    expect(() => parsePlanJson(text, 'plan.json')).toThrow(UsageError);
    expect(() => parsePlanJson(text, 'plan.json')).toThrow(message);
  });
});

describe('shell quoting', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(shellQuote('tienda_01')).toBe('tienda_01');
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(stepCommand({ stores: ['a b'], from: '2026-01-01 00:00', to: '2026-01-01 23:59', chunkDays: 1 })).toBe(
      `ventas etl --tiendas 'a b' --fecha-desde "2026-01-01 00:00" --fecha-hasta "2026-01-01 23:59" --chunk-days 1`,
    );
  });
});
