import { describe, expect, it } from 'vitest';
import { decide, type IncidentState, type Observed, type OpenIncident } from './rules.ts';
import { atTime, dayList, elapsed } from './summaries.ts';

/** Caracas is UTC−4 all year: 14:30Z is 10:30 there. */
const NOW = new Date('2026-01-10T14:30:00Z');
const ALERTS = { klkDownMinutes: 15, staleAfterMinutes: 150, repeatMinutes: 360 };
const STORES = [
  { id: 'tienda_01', name: 'PERIFERICO', timeZone: 'America/Caracas' },
  { id: 'tienda_02', name: 'AV. BOLIVAR', timeZone: 'America/Caracas' },
];
const minutesBefore = (minutes: number, from = NOW) => new Date(from.getTime() - minutes * 60_000);

const NOTHING: Observed = {
  klkUnreachableSince: null,
  staleStores: [],
  recoveryFailed: null,
  healExhausted: [],
  quarantined: [],
};
const NONE_OPEN: IncidentState = { open: [], klkBackAt: null };

function incident(fields: Partial<OpenIncident> & Pick<OpenIncident, 'id' | 'kind'>): OpenIncident {
  return {
    store: null,
    dates: [],
    summary: '',
    details: {},
    openedAt: minutesBefore(60),
    lastAlertedAt: minutesBefore(60),
    ...fields,
  };
}

function run(observed: Partial<Observed>, state: IncidentState = NONE_OPEN, now = NOW) {
  return decide({ ...NOTHING, ...observed }, state, { now, alerts: ALERTS, stores: STORES });
}

describe('decide: klk_unreachable', () => {
  it('opens once KLK has not answered for klkDownMinutes, not before', () => {
    expect(run({ klkUnreachableSince: minutesBefore(14) }).open).toEqual([]);
    expect(run({ klkUnreachableSince: minutesBefore(15) }).open).toEqual([
      {
        kind: 'klk_unreachable',
        store: null,
        dates: [],
        summary: 'KLK no responde desde las 10:15 (15 min)',
        details: { since: '2026-01-10T14:15:00.000Z' },
      },
    ]);
  });

  it('stays open while KLK fails, its summary refreshed, without an alert until repeatMinutes have passed', () => {
    const open = incident({
      id: 7,
      kind: 'klk_unreachable',
      summary: 'KLK no responde desde las 10:15 (15 min)',
      details: { since: '2026-01-10T14:15:00.000Z' },
      lastAlertedAt: minutesBefore(359),
    });
    const d = run({ klkUnreachableSince: minutesBefore(15) }, { open: [open], klkBackAt: null });
    expect(d).toMatchObject({ open: [], remind: [], resolve: [], refresh: [] });

    const later = run({ klkUnreachableSince: minutesBefore(75) }, { open: [open], klkBackAt: null });
    expect(later.refresh).toEqual([
      {
        id: 7,
        dates: [],
        summary: 'KLK no responde desde las 09:15 (1 h 15 min)',
        details: { since: '2026-01-10T13:15:00.000Z' },
      },
    ]);
    expect(later.remind).toEqual([]);

    const due = run(
      { klkUnreachableSince: minutesBefore(15) },
      { open: [{ ...open, lastAlertedAt: minutesBefore(360) }], klkBackAt: null },
    );
    expect(due.remind).toEqual([7]);
    expect(due.remindAlertedBefore).toEqual(minutesBefore(360));
  });

  it('keeps an open incident open when KLK failed again a moment ago, below the threshold', () => {
    const open = incident({ id: 7, kind: 'klk_unreachable', details: { since: '2026-01-10T13:00:00.000Z' } });
    const d = run({ klkUnreachableSince: minutesBefore(2) }, { open: [open], klkBackAt: null });
    expect(d.resolve).toEqual([]);
    expect(d.refresh[0]?.summary).toBe('KLK no responde desde las 10:28 (2 min)');
  });

  it('resolves by itself when KLK answers, saying from when to when', () => {
    const open = incident({ id: 7, kind: 'klk_unreachable', details: { since: '2026-01-10T13:43:00.000Z' } });
    const d = run({}, { open: [open], klkBackAt: null });
    expect(d.resolve).toEqual([
      { id: 7, summary: 'KLK responde de nuevo; no respondió desde las 09:43 hasta las 10:30 (47 min)' },
    ]);
    expect(d).toMatchObject({ open: [], remind: [], refresh: [] });
  });
});

describe('decide: store_stale and one cause, one alert', () => {
  const nineteen = Array.from({ length: 19 }, (_, i) => ({
    store: `tienda_${String(i + 1).padStart(2, '0')}`,
    since: minutesBefore(200),
  }));

  it('opens for a store without a successful sync for staleAfterMinutes, named and in its local time', () => {
    expect(run({ staleStores: [{ store: 'tienda_01', since: minutesBefore(149) }] }).open).toEqual([]);
    expect(run({ staleStores: [{ store: 'tienda_01', since: minutesBefore(150) }] }).open).toEqual([
      {
        kind: 'store_stale',
        store: 'tienda_01',
        dates: [],
        summary: 'tienda_01 (PERIFERICO): sin sincronización correcta desde las 08:00 (2 h 30 min)',
        details: { since: '2026-01-10T12:00:00.000Z' },
      },
    ]);
  });

  it('opens one klk_unreachable and no store_stale when KLK is down and every store starves', () => {
    const d = run({ klkUnreachableSince: minutesBefore(200), staleStores: nineteen });
    expect(d.open.map((o) => [o.kind, o.store])).toEqual([['klk_unreachable', null]]);

    const alreadyOpen = incident({
      id: 1,
      kind: 'klk_unreachable',
      details: { since: minutesBefore(200).toISOString() },
    });
    const next = run(
      { klkUnreachableSince: minutesBefore(200), staleStores: nineteen },
      { open: [alreadyOpen], klkBackAt: null },
    );
    expect(next.open).toEqual([]);
  });

  it('does not count the time KLK was down against a store: staleAfterMinutes start again when KLK is back', () => {
    const state: IncidentState = { open: [], klkBackAt: minutesBefore(149) };
    const stale = [{ store: 'tienda_02', since: minutesBefore(400) }];
    expect(run({ staleStores: stale }, state).open).toEqual([]);
    const d = run({ staleStores: stale }, { open: [], klkBackAt: minutesBefore(150) });
    expect(d.open).toEqual([
      expect.objectContaining({
        kind: 'store_stale',
        store: 'tienda_02',
        summary: 'tienda_02 (AV. BOLIVAR): sin sincronización correcta desde las 03:50 (6 h 40 min)',
      }),
    ]);
  });

  it('opens no store_stale in the cycle KLK answers again', () => {
    const klk = incident({ id: 4, kind: 'klk_unreachable', details: { since: minutesBefore(300).toISOString() } });
    const d = run({ staleStores: nineteen }, { open: [klk], klkBackAt: null });
    expect(d.resolve.map((r) => r.id)).toEqual([4]);
    expect(d.open).toEqual([]);
  });

  it('keeps a store_stale opened before KLK went down, holding its reminders while KLK is down', () => {
    const stale = incident({
      id: 3,
      kind: 'store_stale',
      store: 'tienda_01',
      details: { since: minutesBefore(900).toISOString() },
      lastAlertedAt: minutesBefore(400),
    });
    const klk = incident({ id: 4, kind: 'klk_unreachable', details: { since: minutesBefore(30).toISOString() } });
    const observed = {
      klkUnreachableSince: minutesBefore(30),
      staleStores: [{ store: 'tienda_01', since: minutesBefore(900) }],
    };
    const d = run(observed, { open: [stale, klk], klkBackAt: null });
    expect(d.resolve).toEqual([]);
    expect(d.remind).toEqual([]);
    // KLK back: the store's own incident is told again, KLK's resolves.
    const back = run({ staleStores: observed.staleStores }, { open: [stale, klk], klkBackAt: null });
    expect(back.remind).toEqual([3]);
    expect(back.resolve.map((r) => r.id)).toEqual([4]);
  });

  it('resolves when the store syncs again, with the span it went without', () => {
    const open = incident({
      id: 5,
      kind: 'store_stale',
      store: 'tienda_02',
      details: { since: '2026-01-09T23:10:00.000Z' },
    });
    expect(run({}, { open: [open], klkBackAt: null }).resolve).toEqual([
      {
        id: 5,
        summary:
          'tienda_02 (AV. BOLIVAR): sincroniza de nuevo; sin sincronización correcta desde el 2026-01-09 a las 19:10 hasta las 10:30 (15 h 20 min)',
      },
    ]);
  });

  it('takes the earliest `since` of a store listed twice, and names a store missing from the catalogue by its id', () => {
    const d = run({
      staleStores: [
        { store: 'tienda_99', since: minutesBefore(10) },
        { store: 'tienda_99', since: minutesBefore(155) },
      ],
    });
    expect(d.open).toEqual([
      expect.objectContaining({ store: 'tienda_99', summary: expect.stringMatching(/^tienda_99: .*\(2 h 35 min\)$/) }),
    ]);
  });
});

describe('decide: recovery_failed, heal_exhausted, quarantine', () => {
  it('opens recovery_failed for the chain, refreshes it when another night fails, resolves when one succeeds', () => {
    const notRun = run({ recoveryFailed: { day: '2026-01-09', ran: false } });
    expect(notRun.open).toEqual([
      {
        kind: 'recovery_failed',
        store: null,
        dates: ['2026-01-09'],
        summary: 'La recuperación nocturna del 2026-01-09 no se ejecutó',
        details: { day: '2026-01-09', ran: false, stores: [], error: null },
      },
    ]);
    const failed = run({
      recoveryFailed: { day: '2026-01-09', ran: true, stores: ['tienda_03', 'tienda_01'], error: 'KLK: HTTP 503' },
    });
    expect(failed.open[0]?.summary).toBe(
      'La recuperación nocturna del 2026-01-09 no se completó: falló en tienda_01, tienda_03 (KLK: HTTP 503)',
    );

    const open = incident({ id: 9, ...notRun.open[0]! });
    expect(run({ recoveryFailed: { day: '2026-01-09', ran: false } }, { open: [open], klkBackAt: null })).toMatchObject(
      { open: [], refresh: [], resolve: [] },
    );
    const nextNight = run({ recoveryFailed: { day: '2026-01-10', ran: false } }, { open: [open], klkBackAt: null });
    expect(nextNight.refresh).toEqual([expect.objectContaining({ id: 9, dates: ['2026-01-10'] })]);
    // Resolved by a later night that succeeds, saying what had gone wrong: not run, or run and failed.
    expect(run({}, { open: [open], klkBackAt: null }).resolve).toEqual([
      { id: 9, summary: 'La recuperación nocturna vuelve a completarse (la del 2026-01-09 no se había ejecutado)' },
    ]);
    const ranAndFailed = incident({ id: 10, ...failed.open[0]! });
    expect(run({}, { open: [ranAndFailed], klkBackAt: null }).resolve).toEqual([
      { id: 10, summary: 'La recuperación nocturna vuelve a completarse (la del 2026-01-09 había fallado)' },
    ]);
  });

  it('opens heal_exhausted per store with its days sorted and merged, and resolves when none is left', () => {
    const d = run({
      healExhausted: [
        { store: 'tienda_01', dates: ['2026-01-07', '2026-01-05'], attempts: 5 },
        { store: 'tienda_01', dates: ['2026-01-05'], attempts: 5 },
        { store: 'tienda_02', dates: ['2026-01-03'], attempts: 5 },
        { store: 'tienda_03', dates: [], attempts: 5 },
      ],
    });
    expect(d.open).toEqual([
      {
        kind: 'heal_exhausted',
        store: 'tienda_01',
        dates: ['2026-01-05', '2026-01-07'],
        summary:
          'tienda_01 (PERIFERICO): 2 días siguen incompletos tras 5 intentos y ya no se reintentan: 2026-01-05, 2026-01-07',
        details: { attempts: 5 },
      },
      expect.objectContaining({
        store: 'tienda_02',
        summary: 'tienda_02 (AV. BOLIVAR): 1 día sigue incompleto tras 5 intentos y ya no se reintenta: 2026-01-03',
      }),
    ]);
    const open = incident({ id: 2, kind: 'heal_exhausted', store: 'tienda_01', dates: ['2026-01-05'] });
    expect(run({}, { open: [open], klkBackAt: null }).resolve).toEqual([
      { id: 2, summary: 'tienda_01 (PERIFERICO): ya no quedan días abandonados por la reparación automática' },
    ]);
  });

  it('opens quarantine per store with its lines per day, ignoring empty counts, and resolves when emptied', () => {
    const d = run({
      quarantined: [
        { store: 'tienda_02', day: '2026-01-09', lines: 2 },
        { store: 'tienda_02', day: '2026-01-08', lines: 1_200 },
        { store: 'tienda_01', day: '2026-01-08', lines: 1 },
        { store: 'tienda_03', day: '2026-01-08', lines: 0 },
      ],
    });
    expect(d.open).toEqual([
      {
        kind: 'quarantine',
        store: 'tienda_02',
        dates: ['2026-01-08', '2026-01-09'],
        summary:
          'tienda_02 (AV. BOLIVAR): 1.202 líneas rechazadas en cuarentena, de 2 días: 2026-01-08 (1.200), 2026-01-09 (2)',
        details: { lines: { '2026-01-08': 1_200, '2026-01-09': 2 } },
      },
      expect.objectContaining({
        store: 'tienda_01',
        summary: 'tienda_01 (PERIFERICO): 1 línea rechazada en cuarentena, del día 2026-01-08 (1)',
      }),
    ]);
    const open = incident({ id: 4, kind: 'quarantine', store: 'tienda_02' });
    expect(run({}, { open: [open], klkBackAt: null }).resolve).toEqual([
      { id: 4, summary: 'tienda_02 (AV. BOLIVAR): ya no hay líneas rechazadas en cuarentena' },
    ]);
  });

  it('leaves unchanged an open incident whose content reads the same, whatever its details key order', () => {
    const first = run({ quarantined: [{ store: 'tienda_01', day: '2026-01-08', lines: 3 }] }).open[0]!;
    const open = incident({
      id: 6,
      ...first,
      details: { lines: { '2026-01-08': 3 } },
      lastAlertedAt: minutesBefore(10),
    });
    const d = run(
      { quarantined: [{ store: 'tienda_01', day: '2026-01-08', lines: 3 }] },
      { open: [open], klkBackAt: null },
    );
    expect(d).toMatchObject({ open: [], refresh: [], remind: [], resolve: [] });
  });
});

describe('summaries', () => {
  it('writes spans in minutes, hours and days', () => {
    expect(
      [0, 59_999, 60_000, 59 * 60_000, 60 * 60_000, 150 * 60_000, 28 * 3_600_000, 48 * 3_600_000, -5].map(elapsed),
    ).toEqual(['0 min', '0 min', '1 min', '59 min', '1 h', '2 h 30 min', '1 d 4 h', '2 d', '0 min']);
  });

  it('writes a time of the same local day without its date, one o’clock in the singular', () => {
    const zone = 'America/Caracas';
    expect(atTime(new Date('2026-01-10T05:05:00Z'), NOW, zone)).toBe('la 01:05');
    expect(atTime(new Date('2026-01-10T04:05:00Z'), NOW, zone)).toBe('las 00:05');
    // 03:59Z is still the 9th in Caracas.
    expect(atTime(new Date('2026-01-10T03:59:00Z'), NOW, zone)).toBe('el 2026-01-09 a las 23:59');
  });

  it('lists ten days and counts the rest', () => {
    const days = Array.from({ length: 12 }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}`);
    expect(dayList(days)).toBe(`${days.slice(0, 10).join(', ')} y 2 más`);
    expect(dayList(days.slice(0, 10))).toBe(days.slice(0, 10).join(', '));
  });
});
