import { describe, expect, it } from 'vitest';
import { toPlanJson } from './json.ts';
import { buildPlan, type PlanInput } from './plan.ts';
import { renderPlanTable } from './render-table.ts';
import { describeEstimate } from './render.ts';
import { seedPlanInput } from '../../test/fixtures/seed.ts';

const fitted: PlanInput['timing'] = {
  baseSeconds: 0.4,
  secondsPer1000Lines: 0.9,
  model: 'fitted',
  samples: 289,
  load: { baseSeconds: 0.02, secondsPer1000Lines: 0.015 },
};
const fittedEstimate = {
  model: 'fitted' as const,
  samples: 289,
  baseSeconds: 0.4,
  secondsPer1000Lines: 0.9,
  loadBaseSeconds: 0.02,
  loadSecondsPer1000Lines: 0.015,
  concurrency: 3,
};
const FITTED_LINE =
  'Estimación: modelo ajustado con 289 peticiones registradas (petición: 0,4 s + 0,9 s por 1.000 líneas; carga: 0,02 s + 0,015 s por 1.000 líneas; 3 en paralelo).';

describe('describeEstimate', () => {
  it('names the fitted model, its evidence, its terms and the requests in flight', () => {
    expect(describeEstimate(fittedEstimate)).toBe(FITTED_LINE);
  });

  it('says when there is nothing recorded yet and the default is used', () => {
    expect(
      describeEstimate({ ...fittedEstimate, model: 'default', samples: 0, baseSeconds: 4, secondsPer1000Lines: 2.5 }),
    ).toBe(
      'Estimación: modelo por defecto (petición: 4 s + 2,5 s por 1.000 líneas; carga: 0,02 s + 0,015 s por 1.000 líneas; 3 en paralelo): ' +
        'aún no hay peticiones registradas.',
    );
  });

  it("keeps a fast KLK's milliseconds, one sample in the singular, thousands grouped", () => {
    expect(
      describeEstimate({ ...fittedEstimate, samples: 1, baseSeconds: 0, secondsPer1000Lines: 0.0149, concurrency: 1 }),
    ).toBe(
      'Estimación: modelo ajustado con 1 petición registrada (petición: 0 s + 0,015 s por 1.000 líneas; carga: 0,02 s + 0,015 s por 1.000 líneas; 1 en paralelo).',
    );
    expect(
      describeEstimate({ ...fittedEstimate, samples: 1500, baseSeconds: 12.34, secondsPer1000Lines: 0.213 }),
    ).toContain('con 1.500 peticiones registradas (petición: 12,3 s + 0,21 s por 1.000 líneas');
  });

  it('says nothing for a plan file saved without it', () => {
    expect(describeEstimate(undefined)).toBeNull();
  });
});

describe('renderPlanTable', () => {
  const plan = toPlanJson(buildPlan({ ...seedPlanInput(), timing: fitted }));
  const text = renderPlanTable(plan);

  it('ends with the total, that steps run together in the backfill, and the model it was estimated with', () => {
    const lines = text.split('\n');
    expect(lines.at(-3)).toMatch(/^Total: \d+ peticiones, .* con el backfill en paralelo\.$/);
    expect(lines.at(-2)).toBe(
      'El tiempo de cada paso es el suyo por separado; el backfill corre todos los pasos a la vez: el total no es su suma.',
    );
    expect(lines.at(-1)).toBe(FITTED_LINE);
  });

  it('writes one request and one store-day in the singular, aligned with the plural', () => {
    const single = text.split('\n').filter((l) => / 1 petición /.test(l));
    expect(single.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/ 1 peticiones/);
    expect(text).toMatch(/ 1 día-tienda /);
    expect(text).not.toMatch(/ 1 días-tienda/);
    const days = (l: string) => l.indexOf(' día');
    expect(
      new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('  '))
          .map(days),
      ).size,
    ).toBe(1);
    const column = (l: string) => l.indexOf(' petici');
    expect(
      new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('  '))
          .map(column),
      ).size,
    ).toBe(1);
  });

  it('does not claim parallel steps for a single step, nor a model a plan file does not have', () => {
    const first = seedPlanInput().stores[0]!;
    const one = toPlanJson(
      buildPlan({ ...seedPlanInput(), stores: [{ ...first, targets: first.targets.slice(0, 1) }], commonGaps: [] }),
    );
    expect(one.phases.flatMap((p) => p.steps)).toHaveLength(1);
    expect(renderPlanTable(one)).not.toContain('el total no es su suma');
    // Its total agrees with one request and one store-day, its ratio written in Spanish.
    expect(renderPlanTable(one)).toMatch(
      /^Total: 1 petición, 1 día-tienda pedido para 1 faltantes o parciales \(x1,00\)/m,
    );
    const { estimate: _, ...older } = plan.totals;
    expect(renderPlanTable({ ...plan, totals: older })).not.toContain('Estimación');
  });
});
