import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { addDays, eachDay } from '../shared/dates.ts';
import {
  buildCoverage,
  commonGaps,
  coveragePct,
  missingRanges,
  priorityOf,
  toJson,
  type StoreCoverage,
} from './report.ts';
import type { DayCell, DayState, StoreDayRow } from './states.ts';
import { DEFAULT_THRESHOLDS, inputFor, seedHistory, SEED_FROM, SEED_TO } from '../../test/fixtures/seed.ts';
import { history, setDay } from '../../test/support/store-days.ts';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const cell = (day: string, state: DayState): DayCell => ({
  day,
  state,
  lines: 0,
  totalUsd: 0,
  klkLines: null,
  usualLines: null,
  rejectedLines: 0,
  sourceChanged: false,
  unprovenEmpty: null,
});
const store = (id: string): Store => DEFAULT_STORES.find((s) => s.id === id)!;
const byId = (stores: StoreCoverage[], id: string) => stores.find((s) => s.store === id)!;

describe('buildCoverage on the seed situation', () => {
  const report = buildCoverage(inputFor(seedHistory()));

  it('gives FLOR AMARILLO the figures of the seed\'s table: 87 days missing, 1.1 %', () => {
    const { missing, ...rest } = byId(report.stores, 'tienda_11');
    expect(rest).toEqual({
      store: 'tienda_11',
      name: 'FLOR AMARILLO',
      expectedDays: 88,
      daysWithData: 1,
      missingDays: 87,
      partialDays: 0,
      rejectedDays: 0,
      coveragePct: 1.1,
      priority: 'ALTA',
      // Its first sale is late, but nothing says it did not sell before: suspected, its early days stay missing.
      isNew: false,
      suspectedNew: true,
      firstSale: '2026-01-25',
      lastSale: '2026-01-25',
      partial: [],
      rejected: [],
      unprovenEmpty: [],
      missingRanges: [{ from: '2025-10-28', to: '2026-01-24', days: 87 }],
    });
    expect(missing).toHaveLength(87);
    expect(missing[0]).toBe('2025-10-28');
    expect(missing).not.toContain('2025-12-25');
    expect(missing).not.toContain('2026-01-01');
  });

  it('does not expect PARAISO before it opened', () => {
    expect(byId(report.stores, 'tienda_18')).toMatchObject({
      expectedDays: 49,
      daysWithData: 30,
      missingDays: 19,
      coveragePct: 61.2,
      priority: 'MEDIA',
      isNew: true,
      firstSale: '2025-12-06',
      missingRanges: [
        { from: '2025-12-08', to: '2025-12-09', days: 2 },
        { from: '2025-12-19', to: '2025-12-19', days: 1 },
        { from: '2026-01-10', to: '2026-01-25', days: 16 },
      ],
    });
  });

  it('counts a hole at the start and one at the end of the window', () => {
    expect(byId(report.stores, 'tienda_10')).toMatchObject({
      expectedDays: 88,
      daysWithData: 56,
      missingDays: 32,
      partialDays: 1,
      coveragePct: 63.6,
      priority: 'MEDIA',
      isNew: false,
      suspectedNew: false,
      missingRanges: [
        { from: '2025-10-28', to: '2025-10-31', days: 4 },
        { from: '2025-11-16', to: '2025-11-23', days: 8 },
        { from: '2025-11-27', to: '2025-11-30', days: 4 },
        { from: '2026-01-10', to: '2026-01-25', days: 16 },
      ],
    });
  });

  it('joins missing days across the closed 25 December and 1 January into one range', () => {
    expect(byId(report.stores, 'tienda_07')).toMatchObject({
      daysWithData: 33,
      missingDays: 55,
      coveragePct: 37.5,
      priority: 'ALTA',
      missingRanges: [
        { from: '2025-10-28', to: '2025-10-28', days: 1 },
        { from: '2025-12-01', to: '2026-01-25', days: 54 },
      ],
    });
  });

  it('sorts stores by coverage, then id', () => {
    expect(report.stores.map((s) => s.store)).toEqual([
      'tienda_11', 'tienda_07', 'tienda_02', 'tienda_03', 'tienda_05', 'tienda_16', 'tienda_15', 'tienda_18',
      'tienda_13', 'tienda_10', 'tienda_06', 'tienda_08', 'tienda_12', 'tienda_17', 'tienda_20', 'tienda_19',
      'tienda_04', 'tienda_09', 'tienda_01',
    ]); // prettier-ignore
  });

  it('finds the common gap of 10-25 January on 19 of 19 stores, the holidays and the new stores', () => {
    expect(report.patterns).toEqual({
      commonGaps: [
        {
          from: '2026-01-10',
          to: '2026-01-25',
          stores: DEFAULT_STORES.map((s) => s.id).sort(),
          days: 16,
          expectedStores: 19,
        },
      ],
      closedDays: ['2025-12-25', '2026-01-01'],
      newStores: ['tienda_18'],
      suspectedNewStores: ['tienda_11'],
    });
  });

  it('totals the store-days', () => {
    expect(report.totals).toEqual({
      expectedStoreDays: 18 * 88 + 49,
      missingStoreDays: 686,
      partialStoreDays: 5,
      rejectedStoreDays: 0,
      futureStoreDays: 0,
    });
  });

  it('keeps each store\'s cells for the window', () => {
    expect(Object.keys(report.days)).toEqual(DEFAULT_STORES.map((s) => s.id));
    const paraiso = report.days['tienda_18']!;
    expect(paraiso.map((c) => c.day)).toEqual(eachDay(SEED_FROM, SEED_TO));
    expect(paraiso.filter((c) => c.state === 'closed')).toHaveLength(39 + 2);
    expect(report.days['tienda_11']!.at(-1)).toMatchObject({ day: '2026-01-25', state: 'complete', lines: 6000 });
  });
});

describe('toJson', () => {
  it('has exactly the keys of CoverageJson, in their order', () => {
    const json = toJson(buildCoverage(inputFor(seedHistory())));
    expect(Object.keys(json)).toEqual(['from', 'to', 'stores', 'patterns', 'totals']);
    expect(Object.keys(json.stores[0]!)).toEqual([
      'store', 'name', 'expectedDays', 'daysWithData', 'missingDays', 'partialDays', 'rejectedDays', 'coveragePct',
      'priority', 'isNew', 'suspectedNew', 'firstSale', 'lastSale', 'missing', 'partial', 'rejected', 'unprovenEmpty', 'missingRanges',
    ]); // prettier-ignore
    expect(Object.keys(json.stores[0]!.missingRanges[0]!)).toEqual(['from', 'to', 'days']);
    expect(Object.keys(json.patterns)).toEqual(['commonGaps', 'closedDays', 'newStores', 'suspectedNewStores']);
    expect(Object.keys(json.patterns.commonGaps[0]!)).toEqual(['from', 'to', 'stores']);
    expect(Object.keys(json.totals)).toEqual([
      'expectedStoreDays', 'missingStoreDays', 'partialStoreDays', 'rejectedStoreDays', 'futureStoreDays',
    ]); // prettier-ignore
    const text = JSON.stringify(json);
    expect(text).toMatch(
      new RegExp(
        '^' +
          escape('{"from":"2025-10-28","to":"2026-01-25","stores":[{"store":"tienda_11","name":"FLOR AMARILLO",') +
          escape('"expectedDays":88,"daysWithData":1,"missingDays":87,"partialDays":0,"rejectedDays":0,"coveragePct":1.1,') +
          escape('"priority":"ALTA","isNew":false,"suspectedNew":true,"firstSale":"2026-01-25","lastSale":"2026-01-25",') +
          escape('"missing":["2025-10-28",'),
      ),
    );
    expect(text).toContain(
      '"partial":[],"rejected":[],"unprovenEmpty":[],"missingRanges":[{"from":"2025-10-28","to":"2026-01-24","days":87}]},{"store":"tienda_07"',
    );
    expect(text).toMatch(
      new RegExp(
        escape('"patterns":{"commonGaps":[{"from":"2026-01-10","to":"2026-01-25","stores":["tienda_01",') +
          '[^\\]]*' +
          escape('"tienda_20"]}],"closedDays":["2025-12-25","2026-01-01"],"newStores":["tienda_18"],') +
          escape('"suspectedNewStores":["tienda_11"]},') +
          escape('"totals":{"expectedStoreDays":1633,"missingStoreDays":686,"partialStoreDays":5,"rejectedStoreDays":0,') +
          escape('"futureStoreDays":0}}') +
          '$',
      ),
    );
  });
});

describe('partial and empty days in the report', () => {
  it('counts partial days as data, lists them, and leaves empty days out of the expected ones', () => {
    const periferico = store('tienda_01');
    const rows = history({ stores: [periferico], from: '2025-09-01', to: SEED_TO });
    setDay(rows, 'tienda_01', '2025-11-10', { lines: 15 });
    setDay(rows, 'tienda_01', '2025-11-12', { lines: 9000, klkLines: 9100 });
    setDay(rows, 'tienda_01', '2025-11-14', { lines: 0, totalUsd: 0, klkLines: 0 });
    const s = buildCoverage(inputFor(rows, { stores: [periferico] })).stores[0]!;
    expect(s).toMatchObject({
      expectedDays: 87,
      daysWithData: 87,
      missingDays: 0,
      partialDays: 2,
      coveragePct: 100,
      priority: 'BAJA',
      partial: ['2025-11-10', '2025-11-12'],
      missing: [],
      missingRanges: [],
    });
  });
});

/** One store over `expected` open days (no closures), with data on the first `withData` and `partial` partial days. */
function coverageOf(withData: number, expected: number, options: { partial?: number; thresholds?: object } = {}) {
  const s: Store = { ...store('tienda_02') };
  const from = '2025-11-01';
  const to = addDays(from, expected - 1);
  const rows = history({ stores: [s], from: '2025-10-01', to, hole: (_, d) => d >= addDays(from, withData) });
  for (let i = 0; i < (options.partial ?? 0); i++) setDay(rows, s.id, addDays(from, i), { klkLines: 99_999 });
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  return buildCoverage(inputFor(rows, { stores: [s], from, to, chainClosedDays: [], thresholds })).stores[0]!;
}

describe('priorities', () => {
  it('are ALTA below 48 %, MEDIA below 68 %, BAJA with any gap, else OK', () => {
    expect(coverageOf(11, 23)).toMatchObject({ coveragePct: 47.8, priority: 'ALTA' });
    expect(coverageOf(12, 25)).toMatchObject({ coveragePct: 48, priority: 'MEDIA' });
    expect(coverageOf(19, 28)).toMatchObject({ coveragePct: 67.9, priority: 'MEDIA' });
    expect(coverageOf(17, 25)).toMatchObject({ coveragePct: 68, priority: 'BAJA' });
    expect(coverageOf(24, 25)).toMatchObject({ coveragePct: 96, priority: 'BAJA' });
    expect(coverageOf(25, 25, { partial: 1 })).toMatchObject({ coveragePct: 100, partialDays: 1, priority: 'BAJA' });
    expect(coverageOf(25, 25)).toMatchObject({ coveragePct: 100, priority: 'OK' });
  });

  it('follow configured thresholds', () => {
    const thresholds = { alta: 30, media: 50 };
    expect(coverageOf(7, 25, { thresholds })).toMatchObject({ coveragePct: 28, priority: 'ALTA' });
    expect(coverageOf(12, 25, { thresholds })).toMatchObject({ coveragePct: 48, priority: 'MEDIA' });
    expect(coverageOf(13, 25, { thresholds })).toMatchObject({ coveragePct: 52, priority: 'BAJA' });
  });

  it('are decided on the coverage as shown, one decimal', () => {
    expect(coveragePct(1199, 2500)).toBe(48);
    expect(priorityOf(coveragePct(1199, 2500), 1301, DEFAULT_THRESHOLDS)).toBe('MEDIA');
    expect(coveragePct(0, 0)).toBe(100);
    expect(priorityOf(100, 0, DEFAULT_THRESHOLDS)).toBe('OK');
  });
});

describe('isNew and suspectedNew', () => {
  /** tienda_12 selling from `firstSale` on; `before` sets each earlier day of the window (closed days skipped). */
  function newness(
    firstSale: string | null,
    options: { store?: Partial<Store>; newStoreDays?: number; before?: (day: string) => Partial<StoreDayRow> | null } = {},
  ) {
    const s: Store = { ...store('tienda_12'), ...options.store };
    const rows = firstSale ? history({ stores: [s], from: firstSale, to: SEED_TO }) : [];
    if (firstSale && options.before) {
      for (const day of eachDay(SEED_FROM, addDays(firstSale, -1))) {
        const values = options.before(day);
        if (values && !DEFAULT_CLOSED_DAYS.includes(day.slice(5))) setDay(rows, s.id, day, values);
      }
    }
    const thresholds = { ...DEFAULT_THRESHOLDS, newStoreDays: options.newStoreDays ?? 14 };
    const { isNew, suspectedNew, missingDays } = buildCoverage(inputFor(rows, { stores: [s], thresholds })).stores[0]!;
    return { isNew, suspectedNew, missingDays };
  }
  const klkEmpty = () => ({ klkLines: 0 });

  it('suspects, but does not call new, a store whose first sale is merely late: its early days stay missing', () => {
    expect(newness('2025-11-12')).toEqual({ isNew: false, suspectedNew: true, missingDays: 15 });
    expect(newness('2025-11-11')).toMatchObject({ isNew: false, suspectedNew: false }); // 14 days after 2025-10-28
    expect(newness('2025-11-12', { newStoreDays: 15 })).toMatchObject({ isNew: false, suspectedNew: false });
    expect(newness('2025-09-01')).toMatchObject({ isNew: false, suspectedNew: false });
  });

  it('is new when KLK answered every expected day before the first sale with 0 lines, however soon it sold', () => {
    expect(newness('2025-11-20', { before: klkEmpty })).toEqual({ isNew: true, suspectedNew: false, missingDays: 0 });
    expect(newness('2025-11-01', { before: klkEmpty })).toMatchObject({ isNew: true, suspectedNew: false });
  });

  it('is only suspected while any day before the first sale lacks KLK\'s answer', () => {
    const allButOne = (day: string) => (day === '2025-11-03' ? null : klkEmpty());
    expect(newness('2025-11-20', { before: allButOne })).toEqual({ isNew: false, suspectedNew: true, missingDays: 1 });
  });

  it('is neither when KLK reported lines before the first sale: the store is known to have sold (reconciled)', () => {
    const klkHasLines = (day: string) => (day === '2025-11-03' ? { klkLines: 8000 } : null);
    expect(newness('2025-11-20', { before: klkHasLines })).toMatchObject({ isNew: false, suspectedNew: false });
    const rejected = (day: string) => (day === '2025-11-03' ? { klkLines: 0, klkRejected: 300 } : klkEmpty());
    expect(newness('2025-11-20', { before: rejected })).toMatchObject({ isNew: false, suspectedNew: false });
  });

  it('is new when the catalogue opens the store inside the window or at most 14 days before --from', () => {
    expect(newness('2025-10-28', { store: { openedOn: '2025-10-28' } })).toMatchObject({ isNew: true, suspectedNew: false });
    expect(newness('2026-01-25', { store: { openedOn: '2026-01-25' } })).toMatchObject({ isNew: true, suspectedNew: false });
    expect(newness(null, { store: { openedOn: '2025-12-06' } })).toMatchObject({ isNew: true });
    expect(newness('2025-10-14', { store: { openedOn: '2025-10-14' } })).toMatchObject({ isNew: true }); // 14 days before
    expect(newness('2025-10-13', { store: { openedOn: '2025-10-13' } })).toMatchObject({ isNew: false }); // 15 days
    expect(newness(null, { store: { openedOn: '2026-02-01' } })).toMatchObject({ isNew: false });
  });

  it('is not suspected when the catalogue says the store opened long before the window', () => {
    expect(newness('2025-12-01', { store: { openedOn: '2025-01-01' } })).toEqual({ isNew: false, suspectedNew: false, missingDays: 34 });
  });

  it('is neither for a store that never sold and did not open in the window', () => {
    expect(newness(null)).toMatchObject({ isNew: false, suspectedNew: false });
  });
});

describe('missingRanges', () => {
  const stateOf: Record<string, DayState> = { m: 'missing', c: 'complete', p: 'partial', x: 'closed', e: 'empty' };
  const cells = (states: string) => [...states].map((ch, i) => cell(addDays('2025-12-20', i), stateOf[ch]!));

  it('runs over closed and empty days and counts only the missing ones', () => {
    expect(missingRanges(cells('cmmxmemc'))).toEqual([{ from: '2025-12-21', to: '2025-12-26', days: 4 }]);
  });

  it('is broken by a day with data, partial or complete', () => {
    expect(missingRanges(cells('mpmcmx'))).toEqual([
      { from: '2025-12-20', to: '2025-12-20', days: 1 },
      { from: '2025-12-22', to: '2025-12-22', days: 1 },
      { from: '2025-12-24', to: '2025-12-24', days: 1 },
    ]);
  });
});

describe('commonGaps', () => {
  const ids = DEFAULT_STORES.map((s) => s.id);
  const gapsWith = (hole: (storeId: string, day: string) => boolean) =>
    buildCoverage(inputFor(history({ stores: DEFAULT_STORES, from: '2025-09-01', to: SEED_TO, hole })))
      .patterns.commonGaps;

  it('ignores a one-day hole in every store', () => {
    expect(gapsWith((_, d) => d === '2025-11-20')).toEqual([]);
  });

  it('needs the share of expected stores missing: 14 of 19 is not a pattern, 15 of 19 is', () => {
    const days = (d: string) => d >= '2026-01-05' && d <= '2026-01-09';
    expect(gapsWith((id, d) => days(d) && ids.indexOf(id) < 14)).toEqual([]);
    expect(gapsWith((id, d) => days(d) && ids.indexOf(id) < 15)).toEqual([
      { from: '2026-01-05', to: '2026-01-09', stores: ids.slice(0, 15).sort(), days: 5, expectedStores: 19 },
    ]);
  });

  it('counts only the stores expected that day: PARAISO before its opening is not', () => {
    const notParaiso = ids.filter((id) => id !== 'tienda_18');
    const gaps = gapsWith((id, d) => d >= '2025-11-03' && d <= '2025-11-04' && notParaiso.indexOf(id) < 14);
    expect(gaps).toEqual([
      { from: '2025-11-03', to: '2025-11-04', stores: notParaiso.slice(0, 14).sort(), days: 2, expectedStores: 18 },
    ]);
  });

  it('is neither broken nor lengthened by days no store is expected, and lists the longest first', () => {
    const gaps = gapsWith(
      (_, d) => (d >= '2025-12-23' && d <= '2025-12-27') || (d >= '2025-11-05' && d <= '2025-11-07'),
    );
    expect(gaps.map(({ from, to, days }) => ({ from, to, days }))).toEqual([
      { from: '2025-12-23', to: '2025-12-27', days: 4 },
      { from: '2025-11-05', to: '2025-11-07', days: 3 },
    ]);
  });

  it('ends a run at a day below the share', () => {
    const cells = (states: DayState[]): DayCell[] => states.map((state, i) => cell(addDays('2026-01-01', i), state));
    const days = {
      a: cells(['missing', 'missing', 'complete', 'missing', 'missing']),
      b: cells(['missing', 'missing', 'complete', 'missing', 'missing']),
    };
    const window = eachDay('2026-01-01', '2026-01-05');
    expect(commonGaps(days, window, 0.75).map((g) => [g.from, g.to])).toEqual([
      ['2026-01-01', '2026-01-02'],
      ['2026-01-04', '2026-01-05'],
    ]);
  });
});

describe('rejected days in the report', () => {
  const periferico = store('tienda_01');
  const rows = history({ stores: [periferico], from: '2025-09-01', to: SEED_TO, hole: (_, d) => d >= '2025-11-11' && d <= '2025-11-14' });
  setDay(rows, 'tienda_01', '2025-11-11', { klkLines: 0, klkRejected: 570 });
  setDay(rows, 'tienda_01', '2025-11-12', { klkLines: 0, klkRejected: 20 });
  setDay(rows, 'tienda_01', '2025-11-14', { klkLines: 0 });
  const report = buildCoverage(inputFor(rows, { stores: [periferico] }));

  it('counts them as expected and not complete, lists them, and breaks a missing range at them', () => {
    expect(report.stores[0]).toMatchObject({
      expectedDays: 87, // 90 days, 25 December, 1 January and the empty 14 November out
      daysWithData: 84,
      missingDays: 1,
      partialDays: 0,
      rejectedDays: 2,
      coveragePct: 96.6,
      priority: 'BAJA',
      rejected: ['2025-11-11', '2025-11-12'],
      missing: ['2025-11-13'],
      missingRanges: [{ from: '2025-11-13', to: '2025-11-13', days: 1 }],
    });
    expect(report.totals).toMatchObject({ expectedStoreDays: 87, missingStoreDays: 1, rejectedStoreDays: 2 });
  });

  it('gives a store with only rejected days a priority, not OK', () => {
    const only = history({ stores: [periferico], from: '2025-09-01', to: SEED_TO, hole: (_, d) => d === '2025-11-11' });
    setDay(only, 'tienda_01', '2025-11-11', { klkLines: 0, klkRejected: 5 });
    expect(buildCoverage(inputFor(only, { stores: [periferico] })).stores[0]).toMatchObject({ rejectedDays: 1, coveragePct: 98.9, priority: 'BAJA' });
  });
});

describe('future days in the report', () => {
  const stores = [store('tienda_01'), store('tienda_02')];
  const rows = history({ stores, from: '2025-09-01', to: SEED_TO });

  it('counts only the days that are over: a --to years ahead expects nothing more', () => {
    const past = buildCoverage(inputFor(rows, { stores }));
    const ahead = buildCoverage(inputFor(rows, { stores, to: '2030-01-01' }));
    expect(ahead.totals).toEqual({ ...past.totals, futureStoreDays: 2 * eachDay('2026-01-26', '2030-01-01').length });
    expect(ahead.stores.map((s) => [s.expectedDays, s.missingDays, s.coveragePct, s.priority])).toEqual(
      past.stores.map((s) => [s.expectedDays, s.missingDays, s.coveragePct, s.priority]),
    );
    expect(ahead.patterns.commonGaps).toEqual([]);
  });

  it('leaves today out until the store closes, then finds it missing', () => {
    const noon = buildCoverage(inputFor(rows, { stores, to: '2026-01-26', now: new Date('2026-01-26T16:00:00Z') }));
    expect(noon.totals).toMatchObject({ missingStoreDays: 0, futureStoreDays: 2 });
    const night = buildCoverage(inputFor(rows, { stores, to: '2026-01-26', now: new Date('2026-01-27T01:00:00Z') }));
    expect(night.totals).toMatchObject({ missingStoreDays: 2, futureStoreDays: 0 });
  });
});
