import { once, EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { readTicks } from '../daemon/ticks.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, runInPlace, startCli, type CliPlace } from '../../test/support/cli.ts';
import { watch, type Watched } from '../../test/support/child.ts';
import { deadPort } from '../../test/support/klk.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
const CLOCK = { VENTAS_CLOCK: '2026-01-15T10:30:00-04:00,0,0' };

/**
 * KLK behind a gate: each `POST /ventas` is held (and announced with `held`) until `release()`, then relayed to the
 * simulator. A request is slow exactly as long as the test wants: in flight when the signal comes, answered after it.
 */
interface Gate {
  url: string;
  events: EventEmitter;
  release(): void;
  close(): Promise<void>;
}

async function gate(target: string): Promise<Gate> {
  const events = new EventEmitter();
  const held: Array<() => void> = [];
  let open = false;
  const server: Server = createServer((req, res) => {
    const relay = () => {
      const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (open || req.url !== '/ventas') return relay();
    held.push(relay);
    events.emit('held');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    release() {
      open = true;
      held.splice(0).forEach((relay) => relay());
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describeEachCliBackend('ventas daemon, stopped with a cycle in flight', (backend) => {
  let sim: RunningSimulator;
  let klk: Gate;
  let place: CliPlace;
  let daemon: Watched | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 8, scale: 0.003 });
    klk = await gate(sim.url);
    place = await backend.place();
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({ stores: STORES, klk: { attempts: 1 }, heal: { lookbackDays: 2, maxRequestsPerHour: 2 } }),
    );
  });
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
    await daemon?.exit;
    await place.cleanup();
    await klk.close();
    await sim.close();
  });

  it('SIGTERM lets the requests in flight be answered and loaded, then exits 0 leaving no run running', async () => {
    const firstHeld = once(klk.events, 'held');
    daemon = watch(
      await startCli(['daemon', '--port', String(await deadPort()), '--klk-url', klk.url], {
        cwd: place.cwd,
        env: { ...place.env, ...CLOCK, VENTAS_CONFIG: join(place.cwd, 'ventas.config.json') },
      }),
    );
    // The first cycle's sync has asked KLK and waits for its answer.
    await firstHeld;
    daemon.child.kill('SIGTERM');
    await daemon.printed(/Deteniendo el daemon/);
    // KLK answers well inside the 20 s grace: the cycle ends with what it had in hand, and the process with it.
    klk.release();
    expect(await daemon.exit).toBe(0);
    expect(daemon.stderr()).toContain('Daemon detenido.');
    expect(daemon.stdout()).toMatch(/^Ciclo 2026-01-15 10:30: sincronización (éxito|interrumpida)/m);
    // Only the first cycle: none starts after the signal.
    expect(daemon.stdout().match(/^Ciclo /gm)).toHaveLength(1);

    const db = await place.open();
    try {
      const runs = await db.query<{ status: string; rows: string }>(
        'SELECT status, rows_inserted AS rows FROM etl_runs ORDER BY id',
      );
      expect(runs.rows.length).toBeGreaterThan(0);
      expect(runs.rows.map((r) => r.status)).not.toContain('running');
      // The answers that came after the signal were loaded, not dropped.
      expect(Number(runs.rows[0]!.rows)).toBeGreaterThan(0);
      expect((await db.query(`SELECT id FROM backfills WHERE status = 'running'`)).rows).toEqual([]);
      // A tick the stop cut short stays claimed by a process that is gone: it reads interrupted, to be run again.
      expect((await readTicks(db)).filter((t) => t.status === 'running' && !t.interrupted)).toEqual([]);
      // A planned stop is no incident: the recovery due too was not started after the signal, so nothing failed.
      expect((await db.query('SELECT kind FROM incidents')).rows).toEqual([]);
      expect((await db.query(`SELECT name FROM daemon_ticks WHERE name LIKE 'recovery%'`)).rows).toEqual([]);
      expect((await db.query('SELECT * FROM store_leases')).rows).toEqual([]);
    } finally {
      await db.close();
    }
    const listed = await runInPlace(place, ['runs', '--format', 'json']);
    const { runs } = JSON.parse(listed.stdout) as { runs: Array<{ status: string }> };
    expect(runs.map((r) => r.status)).not.toContain('running');
  });
});
