import { Cron } from 'croner';
import type { DaemonConfig } from '../catalogue/config.ts';

/**
 * When the daemon's ticks are due: the hourly sync and the nightly recovery, in each store's local time. Pure: the
 * instant is always passed in (the `ventas` clock, so simulated time works) and what ran last comes from the
 * database (daemon/ticks.ts), so a tick is due once whoever leads and whatever restarts.
 *
 * Each tick is a set of cron patterns that croner reads in the tick's time zone. The patterns name every slot (no
 * `*` or step in minutes and hours) and croner runs with `fixedTimeRule: 'no-wildcard'`, so across a DST change each
 * local slot is due exactly once a day: a slot the clock jumps over is due when it jumps (02:30 on a spring-forward
 * night is due at 03:00), one it goes through twice is due the first time only.
 */

export type TickKind = 'sync' | 'recovery';

export interface Tick {
  /** `sync@America/Caracas`: the tick's row in daemon_ticks, the same whatever other zones the catalogue has. */
  readonly name: string;
  readonly kind: TickKind;
  readonly timeZone: string;
  /** The stores of that zone, in catalogue order. */
  readonly stores: readonly string[];
  /** 5-part cron patterns, store-local: the tick's due times are all of theirs. */
  readonly patterns: readonly string[];
  /**
   * With no record of a run (the first start), the latest due time runs only if it is at most this old. The sync:
   * one interval, so a daemon started at 10:20 syncs now, but one started at 03:00 waits for 06:00 instead of
   * syncing for last night's 23:00. The recovery: always (its latest slot is under a day old, 25 h on a DST day), so
   * a new daemon completes yesterday at once rather than leaving it until tomorrow night.
   */
  readonly firstStartWithinMs: number;
}

export interface TickState {
  /** The due time to run now (the latest one at or before `now`), or null when the tick is not due. */
  dueAt: Date | null;
  /** The first due time after `now`: when to look again. */
  next: Date | null;
}

/** Croner objects per tick: built once, never started (paused, no callback: they only answer questions). */
const crons = new WeakMap<Tick, readonly Cron[]>();

/** Minutes since midnight of `HH:MM`. */
function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** `0-2,5,7-9`: sorted distinct numbers as a cron list, runs of consecutive ones as ranges. */
function cronList(values: Iterable<number>): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The sync's slots as cron patterns: every `everyMinutes` from the start of `hours` (`HH:MM-HH:MM`, store-local) to
 * its end included, again each day from the start. A range whose end is before its start crosses midnight
 * (`22:00-02:00`: 22:00 ... 02:00); one that ends where it starts is the whole day. Cron has no "every 25 minutes
 * from 06:10", so the slots are listed: slots sharing their hours share a pattern (`0 6-23 * * *` for the default).
 */
export function syncPatterns(everyMinutes: number, hours: string): string[] {
  const [from, to] = hours.split('-').map(minuteOfDay) as [number, number];
  const span = (to - from + 1_440) % 1_440 || 1_440;
  const hoursByMinute = new Map<number, number[]>();
  for (let t = 0; t <= span && t < 1_440; t += everyMinutes) {
    const slot = (from + t) % 1_440;
    const minute = slot % 60;
    hoursByMinute.set(minute, [...(hoursByMinute.get(minute) ?? []), Math.floor(slot / 60)]);
  }
  const minutesByHours = new Map<string, number[]>();
  for (const [minute, hoursOf] of hoursByMinute) {
    const key = cronList(hoursOf);
    minutesByHours.set(key, [...(minutesByHours.get(key) ?? []), minute]);
  }
  return [...minutesByHours].map(([hoursOf, minutes]) => `${cronList(minutes)} ${hoursOf} * * *`).sort();
}

/** The recovery's one slot a day, at `at` (`HH:MM`, store-local). */
export function recoveryPattern(at: string): string {
  const minute = minuteOfDay(at);
  return `${minute % 60} ${Math.floor(minute / 60)} * * *`;
}

function tick(
  kind: TickKind,
  timeZone: string,
  stores: string[],
  patterns: string[],
  firstStartWithinMs: number,
): Tick {
  const made: Tick = { name: `${kind}@${timeZone}`, kind, timeZone, stores, patterns, firstStartWithinMs };
  crons.set(
    made,
    patterns.map(
      (p) => new Cron(p, { timezone: timeZone, paused: true, mode: '5-part', fixedTimeRule: 'no-wildcard' }),
    ),
  );
  return made;
}

/** The daemon's ticks: a sync and a recovery per time zone of the stores (zones in catalogue order). */
export function daemonTicks(
  daemon: Pick<DaemonConfig, 'syncEveryMinutes' | 'syncHours' | 'recoveryAt'>,
  stores: ReadonlyArray<{ id: string; timeZone: string }>,
): Tick[] {
  const zones = new Map<string, string[]>();
  for (const s of stores) zones.set(s.timeZone, [...(zones.get(s.timeZone) ?? []), s.id]);
  return [...zones].flatMap(([zone, ids]) => [
    tick('sync', zone, ids, syncPatterns(daemon.syncEveryMinutes, daemon.syncHours), daemon.syncEveryMinutes * 60_000),
    tick('recovery', zone, ids, [recoveryPattern(daemon.recoveryAt)], Infinity),
  ]);
}

function cronsOf(t: Tick): readonly Cron[] {
  const found = crons.get(t);
  if (!found) throw new Error(`${t.name} no salió de daemonTicks()`);
  return found;
}

/** The latest due time at or before `now`, or null if there is none. */
export function latestDue(t: Tick, now: Date): Date | null {
  let latest: Date | null = null;
  for (const cron of cronsOf(t)) {
    // previousRuns() leaves out a run exactly at its reference; a millisecond later takes it in.
    const found = cron.previousRuns(2, new Date(now.getTime() + 1)).find((d) => d <= now) ?? null;
    if (found && (!latest || found > latest)) latest = found;
  }
  return latest;
}

/** The first due time after `now`, or null if there is none. */
export function nextDue(t: Tick, now: Date): Date | null {
  let next: Date | null = null;
  for (const cron of cronsOf(t)) {
    const found = cron.nextRun(now);
    if (found && (!next || found < next)) next = found;
  }
  return next;
}

/**
 * Whether `t` is due at `now`, given the due time it last ran for (null: never). Only the latest due time runs: a
 * daemon down for hours (or days) runs one sync and one recovery when it comes back, never one per missed slot. A
 * due time at or before the last one run is never due again (a clock set back, a schedule changed since).
 */
export function tickState(t: Tick, lastDueAt: Date | null, now: Date): TickState {
  const latest = latestDue(t, now);
  const fresh = lastDueAt
    ? latest && latest > lastDueAt
    : latest && now.getTime() - latest.getTime() <= t.firstStartWithinMs;
  return { dueAt: fresh ? latest : null, next: nextDue(t, now) };
}
