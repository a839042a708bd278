import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { buildCoverage } from './report.ts';
import { renderCsv, renderMarkdown, renderTable } from './render.ts';
import { inputFor, seedHistory, SEED_TO } from '../../test/fixtures/seed.ts';
import { history, setDay } from '../../test/support/store-days.ts';

function seedReport() {
  const rows = seedHistory();
  setDay(rows, 'tienda_04', '2025-11-10', { lines: 20 });
  setDay(rows, 'tienda_04', '2025-11-11', { lines: 9000, klkLines: 9001 });
  setDay(rows, 'tienda_05', '2025-11-14', { lines: 0, totalUsd: 0, klkLines: 0 });
  return buildCoverage(inputFor(rows));
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(seedReport());

  it('reproduces the seed\'s summary table, lowest coverage first, new and suspected new stores marked', () => {
    const table = md.slice(md.indexOf('| Tienda'), md.indexOf('\n\n', md.indexOf('| Tienda'))).split('\n');
    expect(md.startsWith('## Resumen de Gaps Detectados\n')).toBe(true);
    expect(table.slice(0, 7)).toEqual([
      '| Tienda | Dias Faltantes | Cobertura | Prioridad |',
      '|--------|----------------|-----------|-----------|',
      '| tienda_11 | 87 | 1% | ALTA - Posible tienda nueva |',
      '| tienda_07 | 55 | 37% | ALTA |',
      '| tienda_02 | 53 | 39% | ALTA |',
      '| tienda_03 | 48 | 45% | ALTA |',
      '| tienda_05 | 47 | 46% | ALTA |',
    ]);
    expect(table).toContain('| tienda_18 | 19 | 61% | MEDIA - Nueva tienda |');
    expect(table).toContain('| tienda_04 | 23 (+3 parciales) | 73% | BAJA |');
    expect(table.at(-1)).toBe('| tienda_01 | 18 | 79% | BAJA |');
    expect(table).toHaveLength(2 + 19);
  });

  it('writes the seed\'s "Patron Detectado", numbered', () => {
    const patterns = md.slice(md.indexOf('## Patron Detectado')).trim().split('\n');
    expect(patterns).toEqual([
      '## Patron Detectado',
      '',
      '1. **Gap reciente comun (2026-01-10 a 2026-01-25)**: 16 dias faltantes en 19 de 19 tiendas',
      '2. **Dias festivos**: 25-Dic y 1-Ene (tiendas cerradas, OK no tener datos)',
      '3. **tienda_05 sin ventas en KLK**: 2025-11-14 (KLK respondio 0 lineas, OK no tener datos)',
      '4. **tienda_18 (PARAISO)**: Tienda nueva, primera venta 2025-12-06',
      '5. **tienda_11 (FLOR AMARILLO)**: Posible tienda nueva, primera venta 2026-01-25; sus dias anteriores siguen ' +
        'faltando hasta confirmarlo con KLK: `npx ventas verify --reconcile --stores tienda_11 --from 2025-10-28 --to 2026-01-24`',
    ]);
  });

  it('lists stores with nothing missing on one line below the table, and rounds coverage down', () => {
    const stores = DEFAULT_STORES.filter((s) => ['tienda_01', 'tienda_02', 'tienda_03'].includes(s.id));
    // tienda_01: 87 of 88 expected days (98.9 %); the others complete
    const hole = (id: string, d: string) => id === 'tienda_01' && d === SEED_TO;
    const rows = history({ stores, from: '2025-09-01', to: SEED_TO, hole });
    const out = renderMarkdown(buildCoverage(inputFor(rows, { stores })));
    expect(out).toContain('| tienda_01 | 1 | 98% | BAJA |\n\nSin dias faltantes (100%): tienda_02, tienda_03\n');
    expect(out).not.toContain('Gap reciente');
  });

  it('says so when every store is complete, with no table and no patterns beyond the holidays', () => {
    const stores = DEFAULT_STORES.slice(0, 2);
    const rows = history({ stores, from: '2025-09-01', to: SEED_TO });
    const out = renderMarkdown(buildCoverage(inputFor(rows, { stores })));
    expect(out).not.toContain('| Tienda |');
    expect(out).toContain('Todas las tiendas sin dias faltantes (100%): tienda_01, tienda_02');
    expect(out).toMatch(/## Patron Detectado\n\n1\. \*\*Dias festivos\*\*: 25-Dic y 1-Ene .*\n$/);
  });
});

describe('renderTable', () => {
  const report = seedReport();

  it('is a Spanish table with totals and patterns, without colours when asked', () => {
    const out = renderTable(report, { color: false });
    expect(out).not.toContain('\x1b[');
    const lines = out.split('\n');
    expect(lines[0]).toBe('Cobertura de ventas del 2025-10-28 al 2026-01-25');
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      'Tienda', 'Nombre', 'Esperados', 'Con datos', 'Faltantes', 'Parciales', 'Cobertura', 'Prioridad', 'Nueva',
    ]); // prettier-ignore
    expect(lines[4]!.split(/\s{2,}/)).toEqual([
      'tienda_11', 'FLOR AMARILLO', '88', '1', '87', '0', '1,1 %', 'ALTA', '¿sí?',
    ]); // prettier-ignore
    expect(lines.find((l) => l.startsWith('tienda_18'))!.split(/\s{2,}/)).toEqual([
      'tienda_18', 'PARAISO', '49', '30', '19', '0', '61,2 %', 'MEDIA', 'sí',
    ]); // prettier-ignore
    expect(lines.find((l) => l.startsWith('Total'))!.split(/\s{2,}/)).toEqual([
      'Total', '19 tiendas', '1.632', '947', '685', '7', '58,0 %',
    ]); // prettier-ignore
    expect(out).toContain('  - Hueco común del 2026-01-10 al 2026-01-25: 16 días faltantes en 19 de 19 tiendas\n');
    expect(out).toContain('  - Días cerrados de la cadena: 25-Dic y 1-Ene');
    expect(out).toContain('  - Tienda nueva: tienda_18 (PARAISO), primera venta 2025-12-06\n');
    expect(out).toContain(
      '  - ¿Tienda nueva? tienda_11 (FLOR AMARILLO), primera venta 2026-01-25, sin prueba de que no vendiera antes: ' +
        'sus días anteriores siguen faltando. Confírmelo con KLK: ' +
        'npx ventas verify --reconcile --stores tienda_11 --from 2025-10-28 --to 2026-01-24\n',
    );
    expect(out).not.toContain('Rechazados');
    expect(out).not.toContain('futuros');
    // holes are listed per store only outside the common gap (a range running into it is shown whole)
    expect(out).toContain('  tienda_07  faltan 2025-10-28, 2025-12-01 a 2026-01-25 (54 días)\n');
    expect(out).toContain('  tienda_01  faltan 2025-10-30 a 2025-10-31 (2 días)\n');
    expect(out).toContain(
      '  tienda_04  faltan 2025-10-31, 2025-12-23 a 2025-12-27 (4 días), 2025-12-30 a 2025-12-31 (2 días); ' +
        'parciales 2025-11-10, 2025-11-11, 2026-01-03\n',
    );
  });

  it('gives no line of holes to a store missing only the common gap', () => {
    const rows = seedHistory();
    for (const day of ['2025-10-30', '2025-10-31']) setDay(rows, 'tienda_01', day, { lines: 9000 });
    const out = renderTable(buildCoverage(inputFor(rows)), { color: false });
    expect(out).toMatch(/\ntienda_01 +PERIFERICO +88 +72 +16 /);
    expect(out).not.toMatch(/tienda_01 {2}faltan/);
    expect(out).toMatch(/ {2}tienda_02 {2}faltan/);
  });

  it('colours each priority when asked', () => {
    const out = renderTable(report, { color: true });
    expect(out).toContain('\x1b[31mALTA\x1b[0m');
    expect(out).toContain('\x1b[33mMEDIA\x1b[0m');
    expect(out).toContain('\x1b[36mBAJA\x1b[0m');
    const stores = DEFAULT_STORES.slice(0, 1);
    const complete = buildCoverage(inputFor(history({ stores, from: '2025-09-01', to: SEED_TO }), { stores }));
    expect(renderTable(complete, { color: true })).toContain('\x1b[32mOK\x1b[0m');
    // colour codes do not shift the columns after them
    const plain = renderTable(report, { color: false }).split('\n')[4]!;
    expect(out.split('\n')[4]!.replace(/\x1b\[\d+m/g, '')).toBe(plain); // eslint-disable-line no-control-regex
  });
});

describe('renderCsv', () => {
  it('writes one record per store-day with a header, CRLF line ends', () => {
    const report = seedReport();
    const records = renderCsv(report).split('\r\n');
    expect(records[0]).toBe('store,name,day,state,lines,klk_lines,total_usd,rejected_lines');
    expect(records.at(-1)).toBe('');
    expect(records).toHaveLength(1 + 19 * 90 + 1);
    expect(records[1]).toBe('tienda_11,FLOR AMARILLO,2025-10-28,missing,0,,0,0');
    expect(records).toContain('tienda_05,VIVIENDA,2025-11-14,empty,0,0,0,0');
    expect(records).toContain('tienda_04,SAN DIEGO,2025-11-11,partial,9000,9001,22750,0');
    expect(records).toContain('tienda_01,PERIFERICO,2025-12-25,closed,0,,0,0');
  });

  it('quotes fields with commas, quotes or line breaks (RFC 4180)', () => {
    const odd: Store = { ...DEFAULT_STORES[0]!, id: 'tienda_21', name: 'LA "ESQUINA", C.A.' };
    const rows = history({ stores: [odd], from: '2026-01-20', to: '2026-01-21' });
    setDay(rows, 'tienda_21', '2026-01-21', { totalUsd: 1234.5678 });
    const csv = renderCsv(buildCoverage(inputFor(rows, { stores: [odd], from: '2026-01-20', to: '2026-01-21' })));
    expect(csv).toBe(
      'store,name,day,state,lines,klk_lines,total_usd,rejected_lines\r\n' +
        'tienda_21,"LA ""ESQUINA"", C.A.",2026-01-20,complete,9000,,22500,0\r\n' +
        'tienda_21,"LA ""ESQUINA"", C.A.",2026-01-21,complete,9100,,1234.5678,0\r\n',
    );
  });
});

describe('rejected and future days in the renderers', () => {
  const stores = DEFAULT_STORES.filter((s) => ['tienda_01', 'tienda_03'].includes(s.id));
  const rows = history({ stores, from: '2025-09-01', to: SEED_TO, hole: (id, d) => id === 'tienda_03' && d >= '2026-01-12' && d <= '2026-01-14' });
  setDay(rows, 'tienda_03', '2026-01-12', { klkLines: 0, klkRejected: 570 });
  setDay(rows, 'tienda_03', '2026-01-13', { klkLines: 0, klkRejected: 1200, rejectedSourceChanged: true });
  setDay(rows, 'tienda_03', '2026-01-14', { klkLines: 0, klkRejected: 30 });
  setDay(rows, 'tienda_01', '2025-11-20', { lines: 0, totalUsd: 0, klkLines: 0, klkRejected: 1 });
  // A window up to 31 January seen on the 26th at noon: 26-31 are not over (6 days x 2 stores).
  const report = buildCoverage(inputFor(rows, { stores, to: '2026-01-31' }));

  it('the table adds a Rechazados column, names each run of rejected days with the command that lists its lines', () => {
    const out = renderTable(report, { color: false });
    const lines = out.split('\n');
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      'Tienda', 'Nombre', 'Esperados', 'Con datos', 'Faltantes', 'Parciales', 'Rechazados', 'Cobertura', 'Prioridad', 'Nueva',
    ]); // prettier-ignore
    expect(out).toMatch(/\ntienda_03 +MAÑONGO +88 +85 +0 +0 +3 +96,6 % +BAJA\n/);
    expect(lines.find((l) => l.startsWith('Total'))!.split(/\s{2,}/)).toEqual([
      'Total', '2 tiendas', '176', '172', '0', '0', '4', '97,7 %',
    ]); // prettier-ignore
    expect(out).toContain(
      '\nDías rechazados (KLK envió líneas y todas quedaron en cuarentena; el plan no los vuelve a pedir):\n' +
        '  - tienda_03 del 2026-01-12 al 2026-01-14 (3 días): 1.800 líneas rechazadas (KLK las cambió desde la extracción anterior); ' +
        'véalas con `npx ventas quarantine --stores tienda_03 --from 2026-01-12 --to 2026-01-14`\n' +
        '  - tienda_01 2025-11-20: 1 línea rechazada; véala con `npx ventas quarantine --stores tienda_01 --from 2025-11-20 --to 2025-11-20`\n',
    );
  });

  it('the table says in one line how many future store-days it left out', () => {
    const out = renderTable(report, { color: false });
    expect(out).toContain(
      '\nNo cuentan 12 días-tienda futuros (después de hoy, u hoy antes del cierre, en la hora de cada tienda): ' +
        'no se esperan ni se planifican.\n',
    );
  });

  it('the markdown counts rejected days next to the missing ones and names the quarantine command', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('(2 tiendas, 176 dias-tienda esperados, 0 faltantes, 0 parciales, 4 rechazados)');
    expect(md).toContain('**Dias futuros**: 12 dias-tienda aun sin terminar');
    expect(md).toContain('| tienda_03 | 0 (+3 rechazados) | 96% | BAJA |');
    expect(md).toContain(
      '**tienda_03 lineas rechazadas**: del 2026-01-12 al 2026-01-14 (3 dias): 1.800 lineas rechazadas (KLK las cambio ' +
        'desde la extraccion anterior); vealas con `npx ventas quarantine --stores tienda_03 --from 2026-01-12 --to 2026-01-14`',
    );
  });

  it('the CSV carries each day\'s state and rejected lines', () => {
    const records = renderCsv(report).split('\r\n');
    expect(records).toContain('tienda_03,MAÑONGO,2026-01-12,rejected,0,0,0,570');
    expect(records).toContain('tienda_03,MAÑONGO,2026-01-26,future,0,,0,0');
  });
});
