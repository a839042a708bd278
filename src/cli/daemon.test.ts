import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signature } from '../alerts/message.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, runInPlace, type CliPlace } from '../../test/support/cli.ts';
import { deadPort } from '../../test/support/klk.ts';
import { httpSink, type HttpSink } from '../../test/support/sinks.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
const SECRET = 'un-secreto-de-prueba-largo';
/** A stopped clock at a moment (Caracas time), as `VENTAS_CLOCK` takes it. */
const clockAt = (local: string) => ({ VENTAS_CLOCK: `${local}:00-04:00,0,0` });

interface CycleJson {
  ticks: Array<{ name: string; kind: string; claimed: boolean; status: string; rows: number; unreachable: boolean }>;
  heal: { backlogBefore: number; attempted: number; budget: number; requests: number; backlogAfter: number };
  window: { from: string; to: string };
  incidents: { opened: number; resolved: number; open: number };
}

describeEachCliBackend('ventas daemon --once', (backend) => {
  let sim: RunningSimulator;
  let sink: HttpSink;
  let place: CliPlace;
  let dead: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    sink = await httpSink();
    dead = `http://127.0.0.1:${await deadPort()}`;
    place = await backend.place();
  });
  afterAll(async () => {
    await place.cleanup();
    await sink.close();
    await sim.close();
  });

  const configure = (heal: Record<string, number>) =>
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({
        stores: STORES,
        klk: { attempts: 1 },
        heal: { lookbackDays: 3, ...heal },
        alerts: { webhook: { url: `${sink.url}/hook`, secret: SECRET } },
      }),
    );
  const daemon = async (local: string, url: string) => {
    const result = await runInPlace(place, ['daemon', '--once', '--format', 'json', '--klk-url', url], {
      VENTAS_CONFIG: join(place.cwd, 'ventas.config.json'),
      ...clockAt(local),
    });
    return { code: result.code, cycle: JSON.parse(result.stdout) as CycleJson, stderr: result.stderr };
  };
  const received = () =>
    sink.received.map((r) => {
      const body = JSON.parse(r.body) as { event: string; incident: { kind: string } };
      expect(r.headers['x-ventas-signature']).toBe(signature(r.body, SECRET));
      return `${body.event} ${body.incident.kind}`;
    });

  it('syncs, recovers and heals the lookback within its budget, once per due time; KLK down opens one incident', async () => {
    // Budget 3: of the lookback's backlog (2026-01-12 and 01-13 for two stores; the recovery does 01-14) the three
    // newest store-days are healed, the oldest one waits.
    configure({ maxRequestsPerHour: 3 });
    const first = await daemon('2026-01-15T10:30', sim.url);
    expect(first.stderr).toContain('Reloj simulado');
    expect(first.code).toBe(0);
    expect(first.cycle.ticks.map((t) => [t.name, t.claimed, t.status])).toEqual([
      ['sync@America/Caracas', true, 'success'],
      ['recovery@America/Caracas', true, 'success'],
    ]);
    expect(first.cycle.ticks.every((t) => t.rows > 0)).toBe(true);
    expect(first.cycle.window).toEqual({ from: '2026-01-12', to: '2026-01-14' });
    expect(first.cycle.heal).toMatchObject({ backlogBefore: 4, attempted: 3, budget: 3, requests: 3, backlogAfter: 1 });
    expect(first.cycle.incidents.open).toBe(0);

    // The same instant again: no tick is due, and the hour's budget is spent (per rolling hour, not per cycle).
    const again = await daemon('2026-01-15T10:30', sim.url);
    expect(again.code).toBe(0);
    expect(again.cycle.ticks).toEqual([]);
    expect(again.cycle.heal).toMatchObject({ backlogBefore: 1, attempted: 0, budget: 0, requests: 0, backlogAfter: 1 });

    const db = await place.open();
    try {
      const { rows } = await db.query<{ name: string; status: string; due: string }>(
        `SELECT name, status, to_char(last_due_at AT TIME ZONE 'America/Caracas', 'HH24:MI') AS due FROM daemon_ticks ORDER BY name`,
      );
      expect(rows).toEqual([
        { name: 'recovery@America/Caracas', status: 'success', due: '03:00' },
        { name: 'sync@America/Caracas', status: 'success', due: '10:00' },
      ]);
    } finally {
      await db.close();
    }

    // KLK goes down at 11:00's sync: not yet an incident (under alerts.klkDownMinutes, 15).
    const down = await daemon('2026-01-15T11:00', dead);
    expect(down.cycle.ticks.map((t) => [t.name, t.status, t.unreachable])).toEqual([
      ['sync@America/Caracas', 'failed', true],
    ]);
    expect([down.code, down.cycle.incidents.open]).toEqual([0, 0]);
    // Twenty minutes later, still down: klk_unreachable opens, told once, signed.
    const stillDown = await daemon('2026-01-15T11:20', dead);
    expect([stillDown.code, stillDown.cycle.incidents]).toEqual([1, { opened: 1, resolved: 0, reminded: 0, open: 1 }]);
    expect(received()).toEqual(['incident.opened klk_unreachable']);
    // Again within the repeat interval: no second alert.
    expect((await daemon('2026-01-15T11:30', dead)).code).toBe(1);
    expect(received()).toEqual(['incident.opened klk_unreachable']);

    // KLK back at the 12:00 sync: resolved, told once.
    const back = await daemon('2026-01-15T12:00', sim.url);
    expect(back.cycle.ticks.map((t) => [t.name, t.status])).toEqual([['sync@America/Caracas', 'success']]);
    expect([back.code, back.cycle.incidents]).toEqual([0, { opened: 0, resolved: 1, reminded: 0, open: 0 }]);
    // The 10:30 cycle's requests stopped counting at 11:30, whose heal tried the store-day left once while KLK was
    // down: 2 of the hour's 3 are left, and the last store-day is healed.
    expect(back.cycle.heal).toMatchObject({ budget: 2, attempted: 1, backlogAfter: 0 });
    expect(received()).toEqual(['incident.opened klk_unreachable', 'incident.resolved klk_unreachable']);
  });

  it('says what the cycle did in Spanish, and refuses a bad --cycle-seconds', async () => {
    configure({ maxRequestsPerHour: 3 });
    const env = { VENTAS_CONFIG: join(place.cwd, 'ventas.config.json'), ...clockAt('2026-01-15T12:10') };
    const text = await runInPlace(place, ['daemon', '--once', '--klk-url', sim.url], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Ciclo del daemon · 2026-01-15 12:10 (America/Caracas)');
    expect(text.stdout).toContain('Tareas:      ninguna pendiente');
    expect(text.stdout).toContain('Pendientes:  0 días-tienda antes, 0 después');
    expect(text.stdout).toContain('Incidentes:  0 abiertos (0 nuevos, 0 resueltos, 0 recordados)');
    const bad = await runInPlace(place, ['daemon', '--cycle-seconds', '0', '--klk-url', sim.url], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--cycle-seconds debe ser un número de segundos mayor que 0');
  });

  it('a nightly recovery KLK does not answer opens recovery_failed; the next night that succeeds resolves it', async () => {
    configure({ maxRequestsPerHour: 3 });
    const failed = await daemon('2026-01-16T03:00', dead);
    // The 23:00 sync missed since 12:00 runs once, then the recovery; neither gets an answer.
    expect(failed.cycle.ticks.map((t) => [t.name, t.status])).toEqual([
      ['sync@America/Caracas', 'failed'],
      ['recovery@America/Caracas', 'failed'],
    ]);
    expect([failed.code, failed.cycle.incidents]).toEqual([1, { opened: 1, resolved: 0, reminded: 0, open: 1 }]);
    expect(received().slice(-1)).toEqual(['incident.opened recovery_failed']);
    // The heal tried too, but KLK not answering spends no store-day's attempts.
    expect(failed.cycle.heal.attempted).toBeGreaterThan(0);
    const db = await place.open();
    try {
      expect((await db.query('SELECT * FROM heal_attempts')).rows).toEqual([]);
    } finally {
      await db.close();
    }

    const next = await daemon('2026-01-17T03:00', sim.url);
    expect(next.cycle.ticks.map((t) => [t.name, t.status])).toEqual([
      ['sync@America/Caracas', 'success'],
      ['recovery@America/Caracas', 'success'],
    ]);
    expect([next.code, next.cycle.incidents]).toEqual([0, { opened: 0, resolved: 1, reminded: 0, open: 0 }]);
    expect(received().slice(-1)).toEqual(['incident.resolved recovery_failed']);
  });
});

describeEachCliBackend('ventas daemon --once, a store-day the heal cannot complete', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 6, scale: 0.003 });
    place = await backend.place();
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({ stores: STORES, klk: { attempts: 1 }, heal: { lookbackDays: 1, maxAttempts: 2 } }),
    );
  });
  afterAll(async () => {
    await place.cleanup();
    await sim.close();
  });
  const run = (local: string, args: string[]) =>
    runInPlace(place, [...args, '--klk-url', sim.url], {
      VENTAS_CONFIG: join(place.cwd, 'ventas.config.json'),
      ...clockAt(local),
    });
  const daemon = async (local: string) => {
    const result = await run(local, ['daemon', '--once', '--format', 'json']);
    return { code: result.code, cycle: JSON.parse(result.stdout) as CycleJson & { heal: { exhausted: number } } };
  };

  it('gives a store-day up after heal.maxAttempts with heal_exhausted, resolved once the day is complete', async () => {
    // KLK answers every request with nothing that proves the day empty: yesterday stays missing however often.
    const answer = join(mkdtempSync(join(tmpdir(), 'ventas-daemon-')), 'answer.json');
    writeFileSync(answer, '[]');
    sim.options.replay = answer;
    try {
      const first = await daemon('2026-02-10T10:30');
      expect(first.cycle.heal).toMatchObject({ backlogBefore: 2, attempted: 2, backlogAfter: 2, exhausted: 0 });
      expect([first.code, first.cycle.incidents.open]).toEqual([0, 0]);
      const second = await daemon('2026-02-10T10:30');
      expect(second.cycle.heal).toMatchObject({ attempted: 2, backlogAfter: 2, exhausted: 2 });
      // One incident per store.
      expect([second.code, second.cycle.incidents]).toEqual([1, { opened: 2, resolved: 0, reminded: 0, open: 2 }]);
      const third = await daemon('2026-02-10T10:40');
      expect(third.cycle.heal).toMatchObject({ backlogBefore: 2, attempted: 0, exhausted: 2 });
      expect([third.code, third.cycle.incidents.open]).toEqual([1, 2]);
      const text = await run('2026-02-10T10:40', ['daemon', '--once']);
      expect(text.stdout).toContain('Abandonados: 2 días-tienda tras 2 intentos');
    } finally {
      sim.options.replay = null;
    }
    // Someone loads the day by hand: the next cycle resolves both and forgets their attempts.
    const etl = await run('2026-02-10T10:45', ['etl', '--fecha-desde', '2026-02-09', '--fecha-hasta', '2026-02-09']);
    expect(etl.code).toBe(0);
    const healed = await daemon('2026-02-10T10:50');
    expect(healed.cycle.heal).toMatchObject({ backlogBefore: 0, exhausted: 0 });
    expect([healed.code, healed.cycle.incidents]).toEqual([0, { opened: 0, resolved: 2, reminded: 0, open: 0 }]);
    const db = await place.open();
    try {
      expect((await db.query('SELECT * FROM heal_attempts')).rows).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
