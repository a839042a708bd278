import { afterEach, describe, expect, it, vi } from 'vitest';
import { runInProcess } from '../../test/support/cli.ts';
import { now, parseClock, simulatedClock } from './clock.ts';
import { UsageError } from './errors.ts';

describe('the clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the system clock without VENTAS_CLOCK', () => {
    vi.useFakeTimers({ now: new Date('2026-03-01T10:00:00Z') });
    expect(now({}).toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(now({ VENTAS_CLOCK: ' ' }).toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(simulatedClock({})).toBeNull();
  });

  it('is START + (Date.now() - EPOCH_MS) x SPEED with VENTAS_CLOCK', () => {
    const epoch = Date.parse('2026-03-01T10:00:00Z');
    const env = { VENTAS_CLOCK: `2026-01-26T10:00:00-04:00,${epoch},60` };
    vi.useFakeTimers({ now: epoch });
    expect(now(env).toISOString()).toBe('2026-01-26T14:00:00.000Z');
    vi.advanceTimersByTime(1_000); // one real second is a simulated minute
    expect(now(env).toISOString()).toBe('2026-01-26T14:01:00.000Z');
    expect(now({ VENTAS_CLOCK: '2026-01-26T10:00:00Z,0,0' }).toISOString()).toBe('2026-01-26T10:00:00.000Z'); // stopped
    expect(simulatedClock(env)).toEqual({ start: new Date('2026-01-26T14:00:00Z'), epochMs: epoch, speed: 60 });
  });

  it.each([
    ['2026-01-26T10:00:00-04:00,1769436000000', 'se esperan tres valores'],
    ['2026-01-26 10:00,1769436000000,1', 'START "2026-01-26 10:00" no es una hora ISO con zona'],
    ['2026-01-26T10:00:00,1769436000000,1', 'no es una hora ISO con zona'], // no offset: whose 10:00?
    ['2026-02-30T10:00:00Z,1769436000000,1', 'no es una hora ISO con zona'],
    ['2026-01-26T10:00:00Z,ayer,1', 'EPOCH_MS "ayer" no es un entero'],
    ['2026-01-26T10:00:00Z,1769436000000,-1', 'SPEED "-1" no es un número'],
  ])('rejects %s as bad input that says what is expected', (value, problem) => {
    expect(() => parseClock(value)).toThrow(UsageError);
    expect(() => parseClock(value)).toThrow(problem);
    expect(() => parseClock(value)).toThrow('Se espera START,EPOCH_MS,SPEED');
  });

  it('makes every command exit 2 on a bad VENTAS_CLOCK, before it does anything', async () => {
    vi.stubEnv('VENTAS_CLOCK', 'mañana');
    try {
      const result = await runInProcess(['gaps', '--format', 'json']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('error: VENTAS_CLOCK inválido: "mañana"');
      expect(result.stdout).toBe('');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
