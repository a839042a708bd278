import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { classifyStoreDays, dayState, firstFutureDay, median, type DayCell, type StoreDayRow } from './states.ts';
import { SEED_NOW } from '../../test/fixtures/seed.ts';
import { history, setDay } from '../../test/support/store-days.ts';

const store = (id: string): Store => DEFAULT_STORES.find((s) => s.id === id)!;
const periferico = store('tienda_01');
const paraiso = store('tienda_18');

function classify(s: Store, rows: StoreDayRow[], from: string, to: string, now = SEED_NOW): Map<string, DayCell> {
  const chainClosedDays = DEFAULT_CLOSED_DAYS;
  const cells = classifyStoreDays({ store: s, chainClosedDays, partialRatio: 0.5, from, to, rows, now });
  return new Map(cells.map((c) => [c.day, c]));
}

describe('dayState', () => {
  const base = { future: false, closed: false, lines: 9000, klkLines: null, rejectedLines: 0, usualLines: 9000, partialRatio: 0.5 };

  it('is closed on a closed day even with rows', () => {
    expect(dayState({ ...base, closed: true })).toBe('closed');
    expect(dayState({ ...base, closed: true, lines: 0, klkLines: 0 })).toBe('closed');
  });

  it('trusts KLK over the usual: a quiet day whose whole-day answer matches the table is complete', () => {
    expect(dayState({ ...base, lines: 300, klkLines: 300 })).toBe('complete');
    expect(dayState({ ...base, lines: 300, klkLines: null })).toBe('partial');
    expect(dayState({ ...base, lines: 299, klkLines: 300 })).toBe('partial');
  });

  it('is empty only when KLK answered the whole day with 0 lines and there are no rows', () => {
    expect(dayState({ ...base, lines: 0, klkLines: 0 })).toBe('empty');
    expect(dayState({ ...base, lines: 0, klkLines: null })).toBe('missing');
    expect(dayState({ ...base, lines: 0, klkLines: 120 })).toBe('missing');
    // rows that KLK no longer reports are data, not an empty day
    expect(dayState({ ...base, lines: 9000, klkLines: 0 })).toBe('complete');
  });

  it('is partial below the ratio of the usual, complete at it', () => {
    expect(dayState({ ...base, lines: 4499 })).toBe('partial');
    expect(dayState({ ...base, lines: 4500 })).toBe('complete');
    expect(dayState({ ...base, lines: 6000, partialRatio: 0.7 })).toBe('partial');
    expect(dayState({ ...base, lines: 1, usualLines: null })).toBe('complete');
  });

  it('is partial with fewer lines than KLK reported, whatever the usual', () => {
    expect(dayState({ ...base, lines: 8999, klkLines: 9000 })).toBe('partial');
    expect(dayState({ ...base, lines: 9000, klkLines: 9000 })).toBe('complete');
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 8000, 9000, 8500])).toBe(8250);
  });
});

describe('classifyStoreDays', () => {
  it('gives one cell per day of the window, missing where there is no row', () => {
    const hole = (_: string, d: string) => d === '2025-11-12';
    const rows = history({ stores: [periferico], from: '2025-10-01', to: '2025-11-30', hole });
    const cells = classifyStoreDays({
      store: periferico,
      chainClosedDays: DEFAULT_CLOSED_DAYS,
      partialRatio: 0.5,
      from: '2025-11-10',
      to: '2025-11-20',
      rows,
      now: SEED_NOW,
    });
    expect(cells.map((c) => c.day)).toEqual([
      '2025-11-10', '2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14', '2025-11-15',
      '2025-11-16', '2025-11-17', '2025-11-18', '2025-11-19', '2025-11-20',
    ]); // prettier-ignore
    expect(cells.filter((c) => c.state !== 'complete')).toEqual([
      { day: '2025-11-12', state: 'missing', lines: 0, totalUsd: 0, klkLines: null, usualLines: 9100, rejectedLines: 0, sourceChanged: false, unprovenEmpty: null },
    ]);
  });

  it('closes PARAISO before its opening on 2025-12-06 and expects it from then on', () => {
    const cells = classify(paraiso, [], '2025-12-01', '2025-12-10');
    expect([...cells.values()].map((c) => c.state)).toEqual([
      ...Array(5).fill('closed'),
      ...Array(5).fill('missing'),
    ]);
    expect(cells.get('2025-12-06')!.state).toBe('missing');
  });

  it('closes 25 December and 1 January, rows or not, and the store\'s own closures and days after it closed', () => {
    const rows = history({ stores: [periferico], from: '2025-12-01', to: '2026-01-05', chainClosedDays: [] });
    const cells = classify(periferico, rows, '2025-12-20', '2026-01-05');
    expect(cells.get('2025-12-25')!.state).toBe('closed');
    expect(cells.get('2025-12-25')!.lines).toBeGreaterThan(0);
    expect(cells.get('2026-01-01')!.state).toBe('closed');
    expect(cells.get('2025-12-24')!.state).toBe('complete');

    const own = { ...periferico, closedDays: ['2025-12-24', '12-31'], closedOn: '2026-01-03' };
    const ownCells = classify(own, [], '2025-12-20', '2026-01-05');
    expect(['2025-12-24', '2025-12-31', '2026-01-04', '2026-01-05'].map((d) => ownCells.get(d)!.state)).toEqual([
      'closed', 'closed', 'closed', 'closed',
    ]); // prettier-ignore
    expect(ownCells.get('2026-01-03')!.state).toBe('missing');
  });

  it('marks a day KLK answered empty as empty, not missing', () => {
    const hole = (_: string, d: string) => d === '2025-11-11';
    const rows = history({ stores: [periferico], from: '2025-11-01', to: '2025-11-20', hole });
    setDay(rows, periferico.id, '2025-11-11', { klkLines: 0 });
    expect(classify(periferico, rows, '2025-11-10', '2025-11-12').get('2025-11-11')!.state).toBe('empty');
  });

  it('finds a day with a handful of lines partial by the median of the previous 4 same weekdays', () => {
    const rows = history({ stores: [periferico], from: '2025-10-01', to: '2025-11-30' });
    setDay(rows, periferico.id, '2025-11-10', { lines: 12 });
    const cell = classify(periferico, rows, '2025-11-01', '2025-11-30').get('2025-11-10')!;
    // Mondays 10-13, 10-20, 10-27, 11-03: 9300, 9000, 9200, 9300
    expect(cell).toMatchObject({ state: 'partial', lines: 12, usualLines: 9250 });
  });

  it('looks back before the window for the baseline', () => {
    const rows = history({ stores: [periferico], from: '2025-10-01', to: '2025-11-09' });
    setDay(rows, periferico.id, '2025-11-10', { lines: 4000, totalUsd: 10_000 });
    const cell = classify(periferico, rows, '2025-11-10', '2025-11-10').get('2025-11-10')!;
    expect(cell).toMatchObject({ state: 'partial', usualLines: 9250, totalUsd: 10_000 });
  });

  it('takes only the last 4 same weekdays with data, skipping those without', () => {
    const rows = history({ stores: [periferico], from: '2025-09-01', to: '2025-11-30' });
    for (const monday of ['2025-09-01', '2025-09-08', '2025-09-15', '2025-09-22', '2025-09-29']) {
      setDay(rows, periferico.id, monday, { lines: 40_000 });
    }
    const mondays = {
      '2025-10-06': 11_000,
      '2025-10-13': 10_000,
      '2025-10-20': 9000,
      '2025-10-27': 0,
      '2025-11-03': 8000,
    };
    for (const [monday, lines] of Object.entries(mondays)) setDay(rows, periferico.id, monday, { lines });
    setDay(rows, periferico.id, '2025-11-10', { lines: 4800 });
    const cells = classify(periferico, rows, '2025-10-27', '2025-11-30');
    // 11-03, 10-20, 10-13 and 10-06: 10-27 has no data, September is more than 4 Mondays with data back
    expect(cells.get('2025-11-10')).toMatchObject({ state: 'complete', usualLines: 9500 });
    expect(cells.get('2025-10-27')!.state).toBe('missing');
  });

  it('falls back to the store\'s median over the window when no earlier same weekday has data', () => {
    const rows: StoreDayRow[] = [];
    for (const [day, lines] of [['2026-01-19', 8000], ['2026-01-20', 9000], ['2026-01-21', 3000]] as const) {
      setDay(rows, paraiso.id, day, { lines });
    }
    const cells = classify(paraiso, rows, '2026-01-19', '2026-01-25');
    expect(cells.get('2026-01-19')).toMatchObject({ state: 'complete', usualLines: 8000 });
    expect(cells.get('2026-01-21')).toMatchObject({ state: 'partial', usualLines: 8000 });
    expect(cells.get('2026-01-26')).toBeUndefined();
  });

  it('finds a day with fewer lines than KLK reported partial even when it looks usual', () => {
    const rows = history({ stores: [periferico], from: '2025-10-01', to: '2025-11-30' });
    setDay(rows, periferico.id, '2025-11-12', { lines: 9100, klkLines: 9150 });
    setDay(rows, periferico.id, '2025-11-13', { lines: 9200, klkLines: 9200 });
    const cells = classify(periferico, rows, '2025-11-01', '2025-11-30');
    expect(cells.get('2025-11-12')).toMatchObject({ state: 'partial', klkLines: 9150 });
    expect(cells.get('2025-11-13')).toMatchObject({ state: 'complete', klkLines: 9200 });
  });

  it('ignores other stores\' rows', () => {
    const rows = history({ stores: [store('tienda_02')], from: '2025-11-01', to: '2025-11-05' });
    const states = [...classify(periferico, rows, '2025-11-01', '2025-11-05').values()].map((c) => c.state);
    expect(states).toEqual(Array(5).fill('missing'));
  });
});

describe('future days', () => {
  const caracas = periferico; // America/Caracas (UTC-4), 07:00-21:00
  const bosque = store('tienda_08'); // closes at midnight

  it('start at the store\'s local today while it is open, and tomorrow once it has closed', () => {
    expect(firstFutureDay(caracas, new Date('2026-01-26T16:00:00Z'))).toBe('2026-01-26'); // 12:00
    expect(firstFutureDay(caracas, new Date('2026-01-27T00:59:59Z'))).toBe('2026-01-26'); // 20:59
    expect(firstFutureDay(caracas, new Date('2026-01-27T01:00:00Z'))).toBe('2026-01-27'); // 21:00: closed
    expect(firstFutureDay(caracas, new Date('2026-01-26T09:00:00Z'))).toBe('2026-01-26'); // 05:00, not open yet
  });

  it('keep today open all day for a store that closes at midnight', () => {
    expect(firstFutureDay(bosque, new Date('2026-01-27T03:59:00Z'))).toBe('2026-01-26'); // 23:59 local
    expect(firstFutureDay(bosque, new Date('2026-01-27T04:00:00Z'))).toBe('2026-01-27'); // 00:00: a new day
  });

  it('follow each store\'s own time zone', () => {
    const madrid = { ...caracas, timeZone: 'Europe/Madrid' };
    const tokyo = { ...caracas, timeZone: 'Asia/Tokyo' };
    const instant = new Date('2026-01-26T20:30:00Z'); // Caracas 16:30, Madrid 21:30, Tokyo 05:30 on the 27th
    expect(firstFutureDay(caracas, instant)).toBe('2026-01-26');
    expect(firstFutureDay(madrid, instant)).toBe('2026-01-27');
    expect(firstFutureDay(tokyo, instant)).toBe('2026-01-27');
  });

  it('are future whatever they hold, closed days and today\'s first rows included, and are never missing', () => {
    expect(dayState({ future: true, closed: false, lines: 0, klkLines: null, rejectedLines: 0, usualLines: 9000, partialRatio: 0.5 })).toBe('future');
    expect(dayState({ future: true, closed: true, lines: 0, klkLines: 0, rejectedLines: 0, usualLines: null, partialRatio: 0.5 })).toBe('future');

    const rows = history({ stores: [caracas], from: '2025-12-01', to: '2026-01-25' });
    setDay(rows, caracas.id, '2026-01-26', { lines: 3000, totalUsd: 7500 }); // the hourly ETL, up to noon
    const noon = classify(caracas, rows, '2026-01-20', '2026-01-31', new Date('2026-01-26T16:00:00Z'));
    expect(noon.get('2026-01-25')!.state).toBe('complete');
    expect(noon.get('2026-01-26')).toMatchObject({ state: 'future', lines: 3000, totalUsd: 7500 });
    expect(['2026-01-27', '2026-01-31'].map((d) => noon.get(d)!.state)).toEqual(['future', 'future']);

    // After closing time today is a day like any other: its 3,000 lines are far below a usual Monday.
    const evening = classify(caracas, rows, '2026-01-20', '2026-01-31', new Date('2026-01-27T01:30:00Z'));
    expect(evening.get('2026-01-26')).toMatchObject({ state: 'partial', lines: 3000 });
    expect(evening.get('2026-01-27')!.state).toBe('future');
  });
});

describe('rejected days', () => {
  const base = { future: false, closed: false, lines: 0, klkLines: 0, usualLines: 9000, partialRatio: 0.5 };

  it('are days KLK answered whole with lines that were all quarantined: not empty, not missing', () => {
    expect(dayState({ ...base, rejectedLines: 570 })).toBe('rejected');
    expect(dayState({ ...base, rejectedLines: 0 })).toBe('empty');
    // rows in the table make the day data, as with an empty answer
    expect(dayState({ ...base, lines: 9000, rejectedLines: 570 })).toBe('complete');
    expect(dayState({ ...base, closed: true, rejectedLines: 570 })).toBe('closed');
  });

  it('carry their rejected lines, and whether the source changed since the extraction before', () => {
    const rows = history({ stores: [periferico], from: '2025-11-01', to: '2025-11-20', hole: (_, d) => d === '2025-11-11' || d === '2025-11-12' });
    setDay(rows, periferico.id, '2025-11-11', { klkLines: 0, klkRejected: 570 });
    setDay(rows, periferico.id, '2025-11-12', { klkLines: 0, klkRejected: 12, rejectedSourceChanged: true });
    setDay(rows, periferico.id, '2025-11-13', { klkLines: 9000, lines: 9000, klkRejected: 3 });
    const cells = classify(periferico, rows, '2025-11-10', '2025-11-13');
    expect(cells.get('2025-11-11')).toMatchObject({ state: 'rejected', lines: 0, klkLines: 0, rejectedLines: 570, sourceChanged: false });
    expect(cells.get('2025-11-12')).toMatchObject({ state: 'rejected', rejectedLines: 12, sourceChanged: true });
    expect(cells.get('2025-11-13')).toMatchObject({ state: 'complete', rejectedLines: 3, sourceChanged: false });
    expect(cells.get('2025-11-10')).toMatchObject({ state: 'complete', rejectedLines: 0 });
  });
});

describe('"0 sales" must be proven', () => {
  // 2025-11-17 is a Monday; the store sold 9,000 lines on each Monday before it.
  const monday = '2025-11-17';
  const proven = (since: string, seen = since): Partial<StoreDayRow> => ({ lines: 0, totalUsd: 0, klkLines: 0, emptySince: since, emptySeenAt: seen });
  const rowsWith = (values: Partial<StoreDayRow>) => {
    const rows = history({ stores: [periferico], from: '2025-10-01', to: '2025-11-30', hole: (_, d) => d === monday });
    setDay(rows, periferico.id, monday, values);
    return rows;
  };

  it('keeps a usual weekday that KLK answered empty once missing, with the moment a second answer can prove it', () => {
    const cell = classify(periferico, rowsWith(proven('2025-11-18T14:00:00.000Z')), '2025-11-10', '2025-11-30').get(monday)!;
    expect(cell).toMatchObject({ state: 'missing', klkLines: 0 });
    expect(cell.unprovenEmpty).toEqual({
      reason: 'needs-second-answer',
      since: '2025-11-18T14:00:00.000Z',
      confirmFrom: '2025-11-18T20:00:00.000Z',
      // 16:00 in Caracas (UTC-4), for people
      confirmFromLocal: '2025-11-18 16:00',
    });
    // A second proven answer 5 h 59 min later proves nothing more; 6 h later the day is empty.
    const early = classify(periferico, rowsWith(proven('2025-11-18T14:00:00.000Z', '2025-11-18T19:59:00.000Z')), '2025-11-10', '2025-11-30');
    expect(early.get(monday)!.state).toBe('missing');
    const confirmed = classify(periferico, rowsWith(proven('2025-11-18T14:00:00.000Z', '2025-11-18T20:00:00.000Z')), '2025-11-10', '2025-11-30');
    expect(confirmed.get(monday)).toMatchObject({ state: 'empty', unprovenEmpty: null });
  });

  it('takes one proven answer on a weekday the store does not usually sell', () => {
    // Mondays closed (never configured): each proven empty, so the next needs no second look.
    const mondays = ['2025-10-27', '2025-11-03', '2025-11-10', '2025-11-17', '2025-11-24'];
    const rows = history({ stores: [periferico], from: '2025-10-21', to: '2025-11-30', hole: (_, d) => mondays.includes(d) });
    for (const d of mondays) setDay(rows, periferico.id, d, proven(`${d}T23:00:00.000Z`));
    const cells = classify(periferico, rows, '2025-11-03', '2025-11-30');
    expect(mondays.slice(1).map((d) => cells.get(d)!.state)).toEqual(['empty', 'empty', 'empty', 'empty']);
    // A new store that never sold: nothing says it sells on that weekday.
    const unopened = { ...paraiso, openedOn: undefined };
    const fresh = classify(unopened, [{ storeId: paraiso.id, day: '2025-11-17', lines: 0, totalUsd: 0, klkLines: 0, emptySince: '2025-11-18T00:00:00.000Z', emptySeenAt: '2025-11-18T00:00:00.000Z' }], '2025-11-17', '2025-11-17');
    expect(fresh.get('2025-11-17')!.state).toBe('empty');
  });

  it('keeps a day missing when the only 0-line answer did not prove itself, and says so', () => {
    const cells = classify(periferico, rowsWith({ lines: 0, totalUsd: 0, klkLines: null, unprovenEmptyAt: '2025-11-18T14:00:00.000Z' }), '2025-11-10', '2025-11-30');
    expect(cells.get(monday)).toMatchObject({
      state: 'missing',
      unprovenEmpty: { reason: 'no-proof', since: '2025-11-18T14:00:00.000Z', confirmFrom: null, confirmFromLocal: null },
    });
    // A day never answered has no reason of that kind.
    expect(classify(periferico, rowsWith({ lines: 0, totalUsd: 0, klkLines: null }), '2025-11-10', '2025-11-30').get(monday)!.unprovenEmpty).toBeNull();
  });
});
