import { EventEmitter, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import type { CycleSummary } from './cycle.ts';
import type { Leader } from './leader.ts';
import { runLoop, waitMs } from './loop.ts';

// Caracas (UTC-4); syncs every 60 min from 06:00 to 23:00 by default, recovery at night.
const config = parseConfig({ stores: DEFAULT_STORES.slice(0, 1), daemon: { syncEveryMinutes: 60 } });
const at = (local: string) => new Date(`${local}-04:00`);

describe('waitMs', () => {
  it('waits until the next due sync, scaled by the clock speed', () => {
    // Started at 10:00, now 10:20: the 11:00 sync is 40 min away, 40 s at speed 60.
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 1)).toBe(40 * 60_000);
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 60)).toBe(40_000);
  });

  it('runs the next cycle one interval after the last one started when no tick is due sooner', () => {
    // At night no sync is due until 06:00: the cycle (coverage, heal, alerts) still runs every 60 min.
    expect(waitMs(config, at('2026-01-15T00:30:00'), at('2026-01-15T00:40:00'), 1)).toBe(50 * 60_000);
  });

  it('cycles every syncEveryMinutes all day and night, outside syncHours too (readiness counts on it)', () => {
    // The loop as it runs: each cycle starts when the wait after the previous one's start ends (a cycle taking
    // 5 minutes of the clock), over two whole days, with a 25-minute interval whose slots fall off the hour.
    const every25 = parseConfig({
      stores: DEFAULT_STORES.slice(0, 1),
      daemon: { syncEveryMinutes: 25, syncHours: '06:10-22:00' },
    });
    for (const c of [config, every25]) {
      const interval = c.daemon.syncEveryMinutes * 60_000;
      let start = at('2026-01-15T00:00:00');
      const gaps: number[] = [];
      while (start < at('2026-01-17T00:00:00')) {
        const ended = new Date(start.getTime() + 5 * 60_000);
        const next = new Date(ended.getTime() + waitMs(c, start, ended, 1));
        gaps.push(next.getTime() - start.getTime());
        start = next;
      }
      expect(Math.max(...gaps)).toBe(interval);
      // Never back to back: a cycle starts no sooner than the previous one ended.
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(5 * 60_000);
    }
  });

  it('never waits less than 0, caps a stopped clock at an hour, and --cycle-seconds overrides', () => {
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T12:30:00'), 1)).toBe(0);
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 0)).toBe(60 * 60_000);
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 60, 2.5)).toBe(2_500);
  });
});

describe('runLoop', () => {
  /** A loop whose leader is a plain emitter, at a stopped 10:30, with what each test adds. */
  const startLoop = (
    leader: EventEmitter & { isLeader: boolean },
    deps: Pick<Parameters<typeof runLoop>[0], 'cycle' | 'onError' | 'work'> & Partial<Parameters<typeof runLoop>[0]>,
    stop: AbortSignal,
  ) =>
    runLoop(
      {
        db: {} as Db,
        config,
        leader: leader as unknown as Leader,
        now: () => at('2026-01-15T10:30:00'),
        speed: 0,
        onCycle: () => undefined,
        ...deps,
      },
      { last: null },
      stop,
      new AbortController().signal,
    );

  it('works while it stands by, takes no more work once it leads, and works between its cycles', async () => {
    const leader = Object.assign(new EventEmitter(), { isLeader: false });
    const stop = new AbortController();
    const log: string[] = [];
    const working = new EventEmitter();
    const workingOnce = once(working, 'working');
    let cycles = 0;
    const loop = startLoop(
      leader,
      {
        cycleSeconds: 0.01,
        cycle: async () => {
          log.push('cycle');
          if (++cycles === 2) stop.abort();
          return {} as CycleSummary;
        },
        onError: (error) => log.push(`error ${(error as Error).message}`),
        work: async ({ stop: until }) => {
          log.push(leader.isLeader ? 'work as leader' : 'work standing by');
          working.emit('working');
          if (!until.aborted) await once(until, 'abort');
          log.push('work stopped');
        },
      },
      stop.signal,
    );
    await workingOnce;
    expect(log).toEqual(['work standing by']);
    leader.isLeader = true;
    leader.emit('change', true);
    await loop;
    expect(log).toEqual(['work standing by', 'work stopped', 'cycle', 'work as leader', 'work stopped', 'cycle']);
  });

  it('starts a standby’s work again after a pause when it failed by itself, with no change of leader', async () => {
    const leader = Object.assign(new EventEmitter(), { isLeader: false });
    const stop = new AbortController();
    const errors: string[] = [];
    const started = new EventEmitter();
    const secondRun = once(started, 'second');
    let runs = 0;
    const loop = startLoop(
      leader,
      {
        cycle: async () => ({}) as CycleSummary,
        onError: (error) => errors.push((error as Error).message),
        standbyRetryMs: 10,
        work: async ({ stop: until }) => {
          // The first start fails at once (the database not there yet); the second works until stopped.
          if (++runs === 1) throw new Error('la base de datos no responde');
          started.emit('second');
          if (!until.aborted) await once(until, 'abort');
        },
      },
      stop.signal,
    );
    await secondRun;
    expect([runs, errors, leader.listenerCount('change')]).toEqual([2, ['la base de datos no responde'], 1]);
    stop.abort();
    await loop;
    expect(runs).toBe(2);
  });
});
