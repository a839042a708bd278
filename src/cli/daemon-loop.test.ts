import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, startCli, type CliPlace } from '../../test/support/cli.ts';
import { until, watch, type Watched } from '../../test/support/child.ts';
import { deadPort } from '../../test/support/klk.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

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

  const start = async (...extra: string[]) => startWith({}, ...extra);
  const startWith = async (
    options: { klk?: string; clock?: Record<string, string>; config?: string },
    ...extra: string[]
  ) => {
    const port = await deadPort();
    const daemon = watch(
      await startCli(['daemon', '--port', String(port), '--klk-url', options.klk ?? sim.url, ...extra], {
        cwd: place.cwd,
        env: {
          ...place.env,
          ...(options.clock ?? CLOCK),
          VENTAS_CONFIG: options.config ?? join(place.cwd, 'ventas.config.json'),
        },
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
    it(
      'two daemons heal together: the standby runs chunks of the heal the leader posted, under one per-KLK limit',
      { timeout: 60_000 },
      async () => {
        // A KLK of its own (its own figures), slow at first: the leader's first sync is still in flight when the
        // second daemon stands by, so the heal that follows finds it there.
        const klk = await startSimulator({ seed: 5, scale: 0.003, latencyMs: [4_000, 0] });
        try {
          const config = join(place.cwd, 'heal.config.json');
          writeFileSync(
            config,
            JSON.stringify({
              stores: STORES,
              concurrency: 2,
              klk: { attempts: 1 },
              heal: { lookbackDays: 10, maxRequestsPerHour: 40 },
              daemon: { leaseSeconds: LEASE_SECONDS },
            }),
          );
          const options = { klk: klk.url, config, clock: { VENTAS_CLOCK: '2026-01-20T10:30:00-04:00,0,0' } };
          const leader = await startWith(options);
          await leader.daemon.printed(/Este proceso dirige/);
          const standby = await startWith(options);
          await standby.daemon.printed(/Otro proceso dirige: este queda en espera/);
          klk.options.latencyMs = [400, 0];

          await leader.daemon.printed(/Ciclo 2026-01-20 10:30: sincronización éxito, recuperación éxito/);
          expect(leader.daemon.stdout()).toMatch(/pendientes \d+→0 /);
          // The standby ran some of the heal's chunks, and the leader the others while it waited.
          expect(standby.daemon.stdout()).toMatch(/Cola: bloque #\d+ tienda_\d+ 2026-01-\d+: [\d.]+ líneas/);
          expect(leader.daemon.stdout()).toMatch(/Cola: bloque #\d+ tienda_\d+ 2026-01-\d+: [\d.]+ líneas/);
          // Two daemons, two lanes each, the sync as well: never more than the per-KLK limit at once.
          expect(klk.stats().maxInFlight).toBeLessThanOrEqual(2);

          const db = await place.open();
          try {
            const { rows: heals } = await db.query<{ status: string; chunks: number; done: number }>(
              `SELECT b.status, count(c.id)::int AS chunks, count(c.id) FILTER (WHERE c.state = 'done')::int AS done
               FROM backfills b JOIN backfill_chunks c ON c.backfill_id = b.id
               WHERE b.params->>'origin' = 'heal' AND b.params->>'to' > '2026-01-14' GROUP BY b.id`,
            );
            expect(heals.length).toBe(1);
            expect(heals[0]!.status).toBe('complete');
            expect(heals[0]!.done).toBe(heals[0]!.chunks);
            const { rows: twice } = await db.query(
              `SELECT c.store_id, c.day_from FROM backfill_chunks c JOIN backfills b ON b.id = c.backfill_id
               WHERE b.params->>'origin' = 'heal' GROUP BY 1, 2 HAVING count(*) > 1`,
            );
            expect(twice).toEqual([]);
            await expectTableEqualsKlk(db, klk.options, STORES, { from: '2026-01-10', to: '2026-01-19' });
          } finally {
            await db.close();
          }

          // Stopped, the standby takes no more chunks and exits 0, as does the leader.
          standby.daemon.child.kill('SIGTERM');
          expect(await standby.daemon.exit).toBe(0);
          expect(standby.daemon.stderr()).toContain('Daemon detenido.');
          leader.daemon.child.kill('SIGTERM');
          expect(await leader.daemon.exit).toBe(0);
        } finally {
          await klk.close();
        }
      },
    );

  if (backend.name === 'postgres')
    it(
      'a leader killed with -9 mid-heal: the other daemon leads, posts none of its store-days again and runs its chunks',
      { timeout: 90_000 },
      async () => {
        const klk = await startSimulator({ seed: 5, scale: 0.003, latencyMs: [4_000, 0] });
        try {
          const config = join(place.cwd, 'heal-kill.config.json');
          writeFileSync(
            config,
            JSON.stringify({
              stores: STORES,
              concurrency: 2,
              klk: { attempts: 1 },
              heal: { lookbackDays: 10, maxRequestsPerHour: 40 },
              daemon: { leaseSeconds: LEASE_SECONDS },
            }),
          );
          // Days no other test of this database loaded: 2026-01-31..02-09.
          const options = { klk: klk.url, config, clock: { VENTAS_CLOCK: '2026-02-10T10:30:00-04:00,0,0' } };
          const first = await startWith(options, '--cycle-seconds', '1');
          await first.daemon.printed(/Este proceso dirige/);
          const second = await startWith(options, '--cycle-seconds', '1');
          await second.daemon.printed(/Otro proceso dirige: este queda en espera/);
          klk.options.latencyMs = [600, 0];

          // Once the leader holds heal chunks, it is killed outright.
          await first.daemon.printed(/Cola: bloque #/);
          const db = await place.open();
          try {
            const heldBy = async (pid: number) =>
              (
                await db.query<{ id: number }>(
                  `SELECT id FROM backfill_chunks WHERE state = 'running' AND split_part(lease_owner, ':', 2) = $1`,
                  [String(pid)],
                )
              ).rows.map((r) => r.id);
            let held: number[] = [];
            while (held.length === 0) {
              if (first.daemon.child.exitCode !== null) throw new Error('el líder terminó antes de tiempo');
              held = await heldBy(first.daemon.child.pid!);
              expect(held.length).toBeGreaterThan(0);
            }
            first.daemon.child.kill('SIGKILL');
            await first.daemon.exit;
            held = await heldBy(first.daemon.child.pid!);

            await second.daemon.printed(/Este proceso dirige/);
            await second.daemon.printed(/Cola: Backfill #\d+ terminado: completo/);
            // The chunks the dead leader held were run by the new one.
            for (const id of held) expect(second.daemon.stdout()).toMatch(new RegExp(`bloque #${id} .*líneas`));
            const { rows: twice } = await db.query(
              `SELECT c.store_id, c.day_from FROM backfill_chunks c JOIN backfills b ON b.id = c.backfill_id
               WHERE b.params->>'origin' = 'heal' GROUP BY 1, 2 HAVING count(*) > 1`,
            );
            expect(twice).toEqual([]);
            await expectTableEqualsKlk(db, klk.options, STORES, { from: '2026-01-31', to: '2026-02-09' });
            expect(klk.stats().maxInFlight).toBeLessThanOrEqual(2);
          } finally {
            await db.close();
          }
          second.daemon.child.kill('SIGTERM');
          expect(await second.daemon.exit).toBe(0);
        } finally {
          await klk.close();
        }
      },
    );

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
