import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, spawnCli, type CliPlace } from '../../test/support/cli.ts';
import { until, watch, type Watched } from '../../test/support/child.ts';
import { deadPort } from '../../test/support/klk.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
/** A stopped clock (Caracas 10:30): every cycle sees the same instant, so only --cycle-seconds paces them. */
const CLOCK = { VENTAS_CLOCK: '2026-01-15T10:30:00-04:00,0,0' };
const LEASE_SECONDS = 5;

interface Status {
  isLeader: boolean;
  leader: { holder: string } | null;
  nextSync: string | null;
  lastCycleEndedAt: string | null;
}

describeEachCliBackend('ventas daemon (long-running)', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  const running: Watched[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    place = await backend.place();
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({
        stores: STORES,
        klk: { attempts: 1 },
        heal: { lookbackDays: 2, maxRequestsPerHour: 2 },
        daemon: { leaseSeconds: LEASE_SECONDS },
      }),
    );
  });
  afterAll(async () => {
    for (const d of running) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await Promise.all(running.map((d) => d.exit));
    await place.cleanup();
    await sim.close();
  });

  const start = async (...extra: string[]) => {
    const port = await deadPort();
    const daemon = watch(
      spawnCli(['daemon', '--port', String(port), '--klk-url', sim.url, ...extra], {
        cwd: place.cwd,
        env: { ...place.env, ...CLOCK, VENTAS_CONFIG: join(place.cwd, 'ventas.config.json') },
      }),
    );
    running.push(daemon);
    await daemon.printed(/Sirve en http/);
    return { daemon, url: `http://127.0.0.1:${port}` };
  };
  const status = async (url: string) => (await (await fetch(`${url}/api/daemon`)).json()) as Status;

  it('serves its endpoints, runs a cycle each --cycle-seconds, and on SIGTERM gives the lead up and exits 0', async () => {
    const { daemon, url } = await start('--cycle-seconds', '0.5');
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    await daemon.printed(/Ciclo 2026-01-15 10:30: sincronización éxito, recuperación éxito/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ventas_daemon_cycle_timestamp_seconds \d/m);
    const s = await status(url);
    expect(s.isLeader).toBe(true);
    expect(s.leader).not.toBeNull();
    expect(s.lastCycleEndedAt).toBe('2026-01-15T14:30:00.000Z');
    expect(Date.parse(s.nextSync!)).toBeGreaterThan(Date.parse('2026-01-15T14:30:00Z'));
    // The next cycle finds the ticks done: it only checks and heals.
    await daemon.printed(/Ciclo 2026-01-15 10:30: sin tareas/);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    expect(daemon.stderr()).toContain('Daemon detenido.');
    // Giving the lead up on the way out is not announced as standing by.
    expect(daemon.stdout()).not.toContain('queda en espera');
    const db = await place.open();
    try {
      const { rows } = await db.query<{ holder: string }>('SELECT holder FROM daemon_leader WHERE expires_at > now()');
      expect(rows).toEqual([]);
    } finally {
      await db.close();
    }
  });

  // One process at a time opens a PGlite folder: two daemons only meet on PostgreSQL.
  if (backend.name === 'postgres')
    it('two daemons: exactly one leads; killed with -9, the other takes over within two leases', async () => {
      const a = await start();
      const b = await start();
      await until(() => /Este proceso dirige/.test(a.daemon.stdout() + b.daemon.stdout()), 'un líder', 10_000);
      const [sa, sb] = [await status(a.url), await status(b.url)];
      expect([sa.isLeader, sb.isLeader].filter(Boolean)).toHaveLength(1);
      expect(sa.leader?.holder).toBe(sb.leader?.holder);
      const [leader, standby] = sa.isLeader ? [a, b] : [b, a];
      await leader.daemon.printed(/Ciclo /);
      // The standby tells the leader's cycle, from the shared record, and is ready while the leader cycles.
      expect((await status(standby.url)).lastCycleEndedAt).toBe('2026-01-15T14:30:00.000Z');
      expect((await fetch(`${standby.url}/readyz`)).status).toBe(200);

      leader.daemon.child.kill('SIGKILL');
      await leader.daemon.exit;
      const killedAt = Date.now();
      await standby.daemon.printed(/Este proceso dirige/);
      expect(Date.now() - killedAt).toBeLessThan(2 * LEASE_SECONDS * 1000);
      expect((await status(standby.url)).isLeader).toBe(true);
      await standby.daemon.printed(/Ciclo /);
    });
});
