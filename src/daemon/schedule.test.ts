import { describe, expect, it } from 'vitest';
import { daemonTicks, latestDue, nextDue, recoveryPattern, syncPatterns, tickState, type Tick } from './schedule.ts';

const DEFAULTS = { syncEveryMinutes: 60, syncHours: '06:00-23:00', recoveryAt: '03:00' };
const CARACAS = 'America/Caracas';
const NEW_YORK = 'America/New_York';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

function ticksOf(daemon: Partial<typeof DEFAULTS>, timeZone = CARACAS): { sync: Tick; recovery: Tick } {
  const [sync, recovery] = daemonTicks({ ...DEFAULTS, ...daemon }, [{ id: 'tienda_01', timeZone }]);
  return { sync: sync!, recovery: recovery! };
}

function state(t: Tick, last: string | null, now: string) {
  const s = tickState(t, last ? at(last) : null, at(now));
  return { dueAt: iso(s.dueAt), next: iso(s.next) };
}

/**
 * What a daemon looking every `stepMinutes` from `from` to `to` runs: each due time it is told, recorded as run
 * (what claimTick does), as UTC instants.
 */
function runsBetween(t: Tick, last: string | null, from: string, to: string, stepMinutes = 5): string[] {
  const runs: string[] = [];
  let lastDue = last ? at(last) : null;
  for (let now = at(from).getTime(); now <= at(to).getTime(); now += stepMinutes * 60_000) {
    const { dueAt } = tickState(t, lastDue, new Date(now));
    if (dueAt) {
      runs.push(dueAt.toISOString());
      lastDue = dueAt;
    }
  }
  return runs;
}

describe('the patterns croner reads', () => {
  it('list every sync slot from the start of the hours to their end included, each day again', () => {
    expect(syncPatterns(60, '06:00-23:00')).toEqual(['0 6-23 * * *']);
    expect(syncPatterns(30, '06:00-23:00')).toEqual(['0 6-23 * * *', '30 6-22 * * *']);
    // 06:10, 06:35, 07:00, 07:25, 07:50: an interval that does not divide the hour starts again each day.
    expect(syncPatterns(25, '06:10-08:00')).toEqual(['0,25,50 7 * * *', '10,35 6 * * *']);
    expect(syncPatterns(120, '06:00-06:59')).toEqual(['0 6 * * *']);
  });

  it('cross midnight when the hours end before they start, and cover the whole day when they end where they start', () => {
    expect(syncPatterns(60, '22:00-02:00')).toEqual(['0 0-2,22-23 * * *']);
    expect(syncPatterns(45, '22:30-01:00')).toEqual(['0,45 0 * * *', '15 23 * * *', '30 22 * * *']);
    expect(syncPatterns(60, '06:00-06:00')).toEqual(['0 0-23 * * *']);
    expect(syncPatterns(1_440, '06:00-06:00')).toEqual(['0 6 * * *']);
    expect(syncPatterns(1, '00:00-00:00')).toEqual(['0-59 0-23 * * *']);
  });

  it('put the recovery at its one time of day', () => {
    expect(recoveryPattern('03:00')).toBe('0 3 * * *');
    expect(recoveryPattern('23:45')).toBe('45 23 * * *');
  });
});

describe('daemonTicks', () => {
  it('makes a sync and a recovery per time zone, named after it, with that zone’s stores', () => {
    const ticks = daemonTicks(DEFAULTS, [
      { id: 'tienda_01', timeZone: CARACAS },
      { id: 'tienda_02', timeZone: NEW_YORK },
      { id: 'tienda_03', timeZone: CARACAS },
    ]);
    expect(ticks.map((t) => ({ name: t.name, kind: t.kind, timeZone: t.timeZone, stores: t.stores }))).toEqual([
      { name: 'sync@America/Caracas', kind: 'sync', timeZone: CARACAS, stores: ['tienda_01', 'tienda_03'] },
      { name: 'recovery@America/Caracas', kind: 'recovery', timeZone: CARACAS, stores: ['tienda_01', 'tienda_03'] },
      { name: 'sync@America/New_York', kind: 'sync', timeZone: NEW_YORK, stores: ['tienda_02'] },
      { name: 'recovery@America/New_York', kind: 'recovery', timeZone: NEW_YORK, stores: ['tienda_02'] },
    ]);
    expect(ticks.map((t) => t.patterns)).toEqual([['0 6-23 * * *'], ['0 3 * * *'], ['0 6-23 * * *'], ['0 3 * * *']]);
  });

  it('answers only for its own ticks', () => {
    const { sync } = ticksOf({});
    const copy = { ...sync };
    expect(() => latestDue(copy, at('2026-01-12T10:00:00-04:00'))).toThrow('no salió de daemonTicks()');
  });
});

describe('tickState', () => {
  const { sync, recovery } = ticksOf({});

  it('is due at the first slot of the hours, not a minute before, and then not until the next', () => {
    const last = '2026-01-11T23:00:00-04:00';
    expect(state(sync, last, '2026-01-12T05:59:59.999-04:00')).toEqual({
      dueAt: null,
      next: '2026-01-12T10:00:00.000Z',
    });
    expect(state(sync, last, '2026-01-12T06:00:00-04:00')).toEqual({
      dueAt: '2026-01-12T10:00:00.000Z',
      next: '2026-01-12T11:00:00.000Z',
    });
    expect(state(sync, '2026-01-12T06:00:00-04:00', '2026-01-12T06:59:00-04:00')).toEqual({
      dueAt: null,
      next: '2026-01-12T11:00:00.000Z',
    });
  });

  it('runs the last slot of the hours, then waits for the next morning', () => {
    expect(state(sync, '2026-01-12T22:00:00-04:00', '2026-01-12T23:00:00-04:00')).toEqual({
      dueAt: '2026-01-13T03:00:00.000Z',
      next: '2026-01-13T10:00:00.000Z',
    });
    expect(state(sync, '2026-01-12T23:00:00-04:00', '2026-01-13T03:00:00-04:00').dueAt).toBeNull();
    expect(
      runsBetween(sync, '2026-01-12T05:00:00-04:00', '2026-01-12T05:00:00-04:00', '2026-01-13T05:59:00-04:00'),
    ).toHaveLength(18);
  });

  it('with hours crossing midnight, runs through it and stops at their end', () => {
    const { sync: night } = ticksOf({ syncHours: '22:00-02:00' });
    expect(state(night, '2026-01-12T23:00:00-04:00', '2026-01-13T00:30:00-04:00')).toEqual({
      dueAt: '2026-01-13T04:00:00.000Z',
      next: '2026-01-13T05:00:00.000Z',
    });
    expect(state(night, '2026-01-13T01:00:00-04:00', '2026-01-13T03:00:00-04:00')).toEqual({
      dueAt: '2026-01-13T06:00:00.000Z',
      next: '2026-01-14T02:00:00.000Z',
    });
    expect(
      runsBetween(night, '2026-01-12T02:00:00-04:00', '2026-01-12T12:00:00-04:00', '2026-01-13T12:00:00-04:00'),
    ).toEqual([
      '2026-01-13T02:00:00.000Z',
      '2026-01-13T03:00:00.000Z',
      '2026-01-13T04:00:00.000Z',
      '2026-01-13T05:00:00.000Z',
      '2026-01-13T06:00:00.000Z',
    ]);
  });

  it('collapses the slots missed while down into one run of the latest', () => {
    // Down from Monday 10:05 to Wednesday 14:35: one sync for 14:00 and one recovery for Wednesday 03:00.
    expect(state(sync, '2026-01-12T10:00:00-04:00', '2026-01-14T14:35:00-04:00')).toEqual({
      dueAt: '2026-01-14T18:00:00.000Z',
      next: '2026-01-14T19:00:00.000Z',
    });
    expect(state(recovery, '2026-01-12T03:00:00-04:00', '2026-01-14T14:35:00-04:00')).toEqual({
      dueAt: '2026-01-14T07:00:00.000Z',
      next: '2026-01-15T07:00:00.000Z',
    });
    // A daemon looking only every 5 hours runs each time once, never catching up slot by slot.
    expect(
      runsBetween(sync, '2026-01-12T06:00:00-04:00', '2026-01-12T06:30:00-04:00', '2026-01-12T23:30:00-04:00', 300),
    ).toEqual(['2026-01-12T15:00:00.000Z', '2026-01-12T20:00:00.000Z', '2026-01-13T01:00:00.000Z']);
  });

  it('never runs a due time again, nor one before it (a clock set back, a schedule changed since)', () => {
    expect(state(sync, '2026-01-12T10:00:00-04:00', '2026-01-12T10:00:00-04:00').dueAt).toBeNull();
    expect(state(sync, '2026-01-12T12:00:00-04:00', '2026-01-12T10:30:00-04:00').dueAt).toBeNull();
    // Slots at :30 before, at :00 now: the first :00 after the last run is due.
    expect(state(sync, '2026-01-12T09:30:00-04:00', '2026-01-12T10:10:00-04:00').dueAt).toBe(
      '2026-01-12T14:00:00.000Z',
    );
  });

  it('on a first start, syncs for a slot of the last interval but not for last night, and always recovers', () => {
    expect(state(sync, null, '2026-01-12T10:20:00-04:00').dueAt).toBe('2026-01-12T14:00:00.000Z');
    expect(state(sync, null, '2026-01-12T23:59:00-04:00').dueAt).toBe('2026-01-13T03:00:00.000Z');
    expect(state(sync, null, '2026-01-13T00:00:01-04:00')).toEqual({
      dueAt: null,
      next: '2026-01-13T10:00:00.000Z',
    });
    expect(state(recovery, null, '2026-01-12T14:35:00-04:00').dueAt).toBe('2026-01-12T07:00:00.000Z');
    expect(state(recovery, null, '2026-01-12T02:59:00-04:00').dueAt).toBe('2026-01-11T07:00:00.000Z');
  });

  it('reads each zone in its own time', () => {
    const [caracasSync, , newYorkSync, newYorkRecovery] = daemonTicks(DEFAULTS, [
      { id: 'tienda_01', timeZone: CARACAS },
      { id: 'tienda_02', timeZone: NEW_YORK },
    ]);
    // 10:00 UTC: 06:00 in Caracas (UTC-4), 05:00 in New York (EST, UTC-5).
    const now = '2026-01-12T10:00:00Z';
    expect(state(caracasSync!, '2026-01-12T03:00:00Z', now)).toEqual({
      dueAt: '2026-01-12T10:00:00.000Z',
      next: '2026-01-12T11:00:00.000Z',
    });
    expect(state(newYorkSync!, '2026-01-12T04:00:00Z', now)).toEqual({
      dueAt: null,
      next: '2026-01-12T11:00:00.000Z',
    });
    expect(state(newYorkRecovery!, '2026-01-11T08:00:00Z', now)).toEqual({
      dueAt: '2026-01-12T08:00:00.000Z',
      next: '2026-01-13T08:00:00.000Z',
    });
  });
});

describe('tickState across a DST change (America/New_York)', () => {
  it('runs a recovery the clock jumps over when it jumps, once, and the next days at its time', () => {
    const { recovery } = ticksOf({ recoveryAt: '02:30' }, NEW_YORK);
    // 2026-03-08: 02:00 EST becomes 03:00 EDT, there is no 02:30.
    expect(runsBetween(recovery, '2026-03-07T02:30:00-05:00', '2026-03-07T12:00:00Z', '2026-03-10T12:00:00Z')).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('runs a recovery the clock goes through twice only the first time', () => {
    const { recovery } = ticksOf({ recoveryAt: '01:30' }, NEW_YORK);
    // 2026-11-01: 02:00 EDT becomes 01:00 EST, 01:30 happens twice.
    expect(runsBetween(recovery, '2026-10-31T01:30:00-04:00', '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(state(recovery, '2026-11-01T05:30:00Z', '2026-11-01T06:45:00Z')).toEqual({
      dueAt: null,
      next: '2026-11-02T06:30:00.000Z',
    });
  });

  it('runs each sync slot of a night crossing a DST change once: none skipped, none twice', () => {
    const { sync } = ticksOf({ syncHours: '22:00-02:00' }, NEW_YORK);
    // Spring forward: 22, 23, 00, 01 EST, then 02:00, which does not exist, at 03:00 EDT.
    expect(runsBetween(sync, '2026-03-07T02:00:00-05:00', '2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z')).toEqual([
      '2026-03-08T03:00:00.000Z',
      '2026-03-08T04:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
    ]);
    // Fall back: 22, 23, 00, 01 EDT; 01 EST (the same slot again) is not run; 02 EST.
    expect(runsBetween(sync, '2026-10-31T02:00:00-04:00', '2026-10-31T12:00:00Z', '2026-11-01T12:00:00Z')).toEqual([
      '2026-11-01T02:00:00.000Z',
      '2026-11-01T03:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('runs a sync every half hour across a spring-forward night without a second run for the missing hour', () => {
    const { sync } = ticksOf({ syncEveryMinutes: 30, syncHours: '00:00-04:00' }, NEW_YORK);
    // 02:00 and 02:30 do not exist: both fall on 03:00 EDT, one run, then 03:30 and 04:00.
    expect(runsBetween(sync, '2026-03-08T06:00:00Z', '2026-03-08T06:20:00Z', '2026-03-08T09:00:00Z')).toEqual([
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
    expect(nextDue(sync, at('2026-03-08T06:30:00Z'))?.toISOString()).toBe('2026-03-08T07:00:00.000Z');
  });
});
