import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan, type PlanInput } from './plan.ts';
import { formatDuration, renderPlanBash, renderPlanMarkdown } from './render.ts';
import { seedPlanInput } from '../../test/fixtures/seed.ts';

const plan = buildPlan(seedPlanInput());
const steps = plan.phases.flatMap((p) => p.steps);
const coverageMarkdown = [
  '## Resumen de Gaps Detectados',
  '',
  '| Tienda | Dias Faltantes | Cobertura | Prioridad |',
  '|--------|----------------|-----------|-----------|',
  '| tienda_11 | 87 | 1.1% | ALTA - Nueva tienda |',
  '',
  '## Patron Detectado',
  '',
  '1. **Gap reciente comun (2026-01-10 a 2026-01-25)**: 16 dias faltantes en 19 tiendas',
].join('\n');

function scriptFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ventas-plan-')), 'backfill.sh');
  writeFileSync(file, text);
  return file;
}

describe('formatDuration', () => {
  it.each([
    [0, '~0 s'],
    [45, '~45 s'],
    [59.6, '~1 min'],
    [90, '~2 min'],
    [720, '~12 min'],
    [3599, '~1 h'],
    [3900, '~1 h 5 min'],
    [6822, '~1 h 54 min'],
  ])('%s s reads %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('renderPlanMarkdown', () => {
  const md = renderPlanMarkdown(plan, { coverageMarkdown, date: '2026-01-26' });

  it("is the seed's document: header, coverage, phases, script, verification, notes, in that order", () => {
    const headings = [
      '# Plan de Backfill de Ventas - KLK',
      '**Fecha**: 2026-01-26',
      '**Estado**: Por ejecutar',
      coverageMarkdown,
      '## FASE 1: Gap Comun (2026-01-10 a 2026-01-25) - 19 tiendas',
      '## FASE 2: Backfill por Tienda',
      '### 2.1 tienda_11 (FLOR AMARILLO) - 87 dias faltantes',
      '## FASE 3: Gaps Menores',
      '## Script Completo de Ejecucion',
      '## Verificacion Post-Backfill',
      '## Notas Importantes',
    ];
    const positions = headings.map((h) => md.indexOf(h));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(md.match(/^### 2\.\d+ /gm)).toHaveLength(5);
    expect(md.match(/\*\*Tiempo estimado\*\*: ~/g)!.length).toBe(2 + 5);
  });

  it('has every step command, in the phases and in the script', () => {
    for (const step of steps) {
      const command = [
        'npx ventas etl \\',
        `    --tiendas ${step.stores.join(' ')} \\`,
        `    --fecha-desde "${step.from}" \\`,
        `    --fecha-hasta "${step.to}" \\`,
        `    --chunk-days ${step.chunkDays}`,
      ].join('\n');
      expect(md.split(command).length - 1).toBe(2);
    }
  });

  it('verifies with ventas verify over the window and says what it proves', () => {
    expect(md).toContain('npx ventas verify --from 2025-10-28 --to 2026-01-25');
    expect(md).toMatch(/por tienda y por dia, incluidos los\s+huecos al principio y al final/);
    // 25-Dec and 1-Jan for 19 stores, and PARAISO's 39 days before it opened.
    expect(md).toContain('nunca se piden: 77 tienda-dias en esta ventana');
    expect(md).toContain('UPSERT');
    expect(md).toContain('`npx ventas backfill --resume`');
    expect(md).toContain('30.000 lineas');
    expect(md).toContain('; 5 dias: tienda_11.');
  });

  it('notes a new store in its own section of phase 2', () => {
    const section = (text: string) =>
      text.slice(text.indexOf('### 2.1 '), text.indexOf('```', text.indexOf('### 2.1 ')));
    expect(section(md)).toBe(
      '### 2.1 tienda_11 (FLOR AMARILLO) - 87 dias faltantes\nCobertura 1.1%. Pendientes en esta fase: 72 dias (15 dias ya van en la fase 1).\n\n',
    );
    // As the seed's table has FLOR AMARILLO: a new store, not only a suspected one.
    const situation = seedPlanInput();
    const asNew = buildPlan({
      ...situation,
      stores: situation.stores.map((s) => (s.id === 'tienda_11' ? { ...s, isNew: true } : s)),
    });
    expect(section(renderPlanMarkdown(asNew, { coverageMarkdown, date: '2026-01-26' }))).toContain(
      '\nTienda nueva. Cobertura 1.1%.',
    );
  });

  it('gives the backfill time, the script time, and the model both were estimated with', () => {
    const total = formatDuration(plan.totals.estimatedSeconds);
    const script = formatDuration(steps.reduce((n, s) => n + s.estimatedSeconds, 0));
    expect(md).toContain(`(todos los pasos en paralelo, hasta 3 peticiones a la vez por KLK): ${total}.`);
    expect(md).toContain(`- Ejecutando el script paso a paso: ${script}.`);
    expect(md).toContain(
      '- Estimación: modelo por defecto (petición: 4 s + 2,5 s por 1.000 líneas; carga: 0,02 s + 0,015 s por 1.000 líneas; 3 en paralelo): ' +
        'aún no hay peticiones registradas. ' +
        'Cada paso se estima con sus peticiones, hasta 3 a la vez.',
    );
  });

  it('marks the stores sized from their history, and those sized with the default', () => {
    const situation = seedPlanInput();
    // PARAISO without a complete day in the window but with a history; FLOR AMARILLO with neither.
    const sized = buildPlan({
      ...situation,
      stores: situation.stores.map((s) =>
        s.id === 'tienda_18'
          ? { ...s, linesPerDay: null, historyLinesPerDay: 2_500 }
          : s.id === 'tienda_11'
            ? { ...s, linesPerDay: null }
            : s,
      ),
    });
    const text = renderPlanMarkdown(sized, { coverageMarkdown, date: '2026-01-26' });
    expect(text).toMatch(/12 dias: [^;]*tienda_18\+/);
    expect(text).toContain('tienda_11*');
    expect(text).toContain(
      '(+ sin dias completos en la ventana: volumen de sus ultimos dias con ventas; * volumen no observado: se supone uno por defecto)',
    );
  });

  it('says so when there is nothing to fetch', () => {
    const empty = buildPlan({ ...seedPlanInput(), stores: [], commonGaps: [] });
    const text = renderPlanMarkdown(empty, { coverageMarkdown, date: '2026-01-26' });
    expect(text).toContain('**Estado**: Nada que ejecutar');
    expect(text).not.toContain('## FASE');
  });
});

describe('renderPlanBash', () => {
  const bash = renderPlanBash(plan);

  it('is a strict bash script with one ventas etl per step and an echo per phase', () => {
    expect(bash.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(bash).toContain('\nset -euo pipefail\n');
    expect(bash.match(/^npx ventas etl \\$/gm)).toHaveLength(steps.length);
    expect(bash).toContain("echo '=== FASE 1: Gap Comun (2026-01-10 a 2026-01-25) - 19 tiendas ==='");
    expect(bash).toContain("echo '=== FASE 2.1: tienda_11 (FLOR AMARILLO) ==='");
    expect(bash).toContain("echo '=== BACKFILL COMPLETO ==='");
    execFileSync('bash', ['-n', scriptFile(bash)]);
  });

  it('passes each argument whole, whatever the store ids and names hold', () => {
    const odd: PlanInput = {
      ...seedPlanInput(),
      stores: [
        {
          id: "t'1 $HOME",
          name: 'LA "ESQUINA" $(date)',
          priority: 'ALTA',
          isNew: false,
          coveragePct: 10,
          missingDays: 1,
          partialDays: 0,
          linesPerDay: 1000,
          historyLinesPerDay: null,
          targets: [{ day: '2025-11-03', state: 'missing' }],
          unavailable: [],
        },
      ],
      commonGaps: [],
    };
    const script = renderPlanBash(buildPlan(odd), { program: "printf '<%s>\\n'" });
    const output = execFileSync('bash', [scriptFile(script)], { encoding: 'utf8' });
    expect(output.split('\n')).toEqual([
      `=== FASE 2.1: t'1 $HOME (LA "ESQUINA" $(date)) ===`,
      '<etl>',
      '<--tiendas>',
      `<t'1 $HOME>`,
      '<--fecha-desde>',
      '<2025-11-03 00:00>',
      '<--fecha-hasta>',
      '<2025-11-03 23:59>',
      '<--chunk-days>',
      '<1>',
      '=== BACKFILL COMPLETO ===',
      '',
    ]);
  });
});
