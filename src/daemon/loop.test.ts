import { describe, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { waitMs } from './loop.ts';

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

  it('never waits less than 0, caps a stopped clock at an hour, and --cycle-seconds overrides', () => {
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T12:30:00'), 1)).toBe(0);
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 0)).toBe(60 * 60_000);
    expect(waitMs(config, at('2026-01-15T10:00:00'), at('2026-01-15T10:20:00'), 60, 2.5)).toBe(2_500);
  });
});
