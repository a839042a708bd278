import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import type { RunItem } from '../runs/history.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { startDashboard } from '../web/server.ts';
import { until, watch } from '../../test/support/child.ts';
import { describeEachCliBackend, runInPlace, startCli, type CliPlace } from '../../test/support/cli.ts';

/**
 * `kill -9` of an ETL in the middle of its run, as the OOM killer or a lost machine does it: nothing of the process
 * runs after, its leases stay in the table, and yet its stores are free at once and its run reads interrupted.
 */
describeEachCliBackend('a killed ETL', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  const stores = ['tienda_01', 'tienda_02', 'tienda_03'];
  const etl = ['etl', '--tiendas', ...stores, '--fecha-desde', '2026-01-05 00:00', '--fecha-hasta', '2026-01-07 23:59'];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 9, scale: 0.002 });
    place = await backend.place();
  });
  afterAll(async () => {
    await sim?.close();
    await place?.cleanup();
  });
  const env = () => ({ KLK_BASE_URL: sim.url });

  async function listed(): Promise<RunItem[]> {
    const result = await runInPlace(place, ['runs', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { runs: RunItem[] }).runs;
  }

  it(
    'kill -9 mid-run: the killed run reads interrupted at once, and the next run takes every store without waiting',
    { timeout: 30_000 },
    async () => {
      // Answers that never come in time: the run is killed holding every store, with requests in flight.
      sim.options.latencyMs = [60_000, 0];
      const killed = watch(
        await startCli([...etl, '--concurrency', '3'], { cwd: place.cwd, env: { ...place.env, ...env() } }),
      );
      await until(() => sim.stats().inFlight >= 3, 'tres peticiones en curso');
      killed.child.kill('SIGKILL');
      expect(await killed.exit).toBeNull();

      // Its leases are still there, unexpired for two minutes; its process is gone (its session ends with it).
      const db = await place.open();
      try {
        const { rows } = await db.query<{ store: string }>(
          `SELECT store_id AS store FROM store_leases WHERE expires_at > now() ORDER BY 1`,
        );
        expect(rows.map((r) => r.store)).toEqual(stores);
      } finally {
        await db.close();
      }
      // The server ends the dead process's session as soon as it sees the connection closed: moments, not a lease.
      const [killedRun] = await vi.waitFor(
        async () => {
          const runs = await listed();
          expect(runs.map((r) => r.status)).toEqual(['interrupted']);
          return runs;
        },
        { timeout: 5_000, interval: 50 },
      );
      expect(killedRun).toMatchObject({
        kind: 'etl',
        status: 'interrupted',
        cancellable: true,
        command: expect.stringMatching(/^ventas etl --tiendas tienda_01 tienda_02 tienda_03 /),
      });
      // It died without saying what it left: what finishes it is its whole window again.
      const finish =
        'npx ventas etl --tiendas tienda_01 tienda_02 tienda_03 --fecha-desde "2026-01-05 00:00" --fecha-hasta "2026-01-07 23:59"';
      expect(killedRun!.resumeCommand).toBe(finish);
      expect((await runInPlace(place, ['runs'])).stdout).toContain(
        `Para terminar lo que dejaron las ejecuciones ETL sin terminar:\n  ${killedRun!.ref}: ${finish}`,
      );

      sim.options.latencyMs = [0, 0];
      const started = Date.now();
      const rerun = await runInPlace(place, [...etl, '--format', 'json'], env());
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stdout).not.toContain('otra ejecución tiene la tienda en curso');
      const summary = JSON.parse(rerun.stdout);
      expect(summary).toMatchObject({ status: 'success', storesOk: 3, storesSkipped: 0, resume: [] });
      // Not the 30 s a held store is waited for before it is skipped, nor the two minutes of the lease.
      expect(Date.now() - started).toBeLessThan(15_000);

      // Its stores now belong to the next run (which ended and released them); the killed run still reads interrupted.
      const runs = await listed();
      const expected = [
        [`etl-${summary.runId}`, 'success'],
        [killedRun!.ref, 'interrupted'],
      ];
      expect(runs.map((r) => [r.ref, r.status])).toEqual(expected);

      // The dashboard lists it the same way.
      const served = await place.open();
      const dashboard = await startDashboard({
        db: served,
        config: parseConfig({}),
        klkUrl: sim.url,
        logger: silentLogger,
        host: '127.0.0.1',
        port: 0,
      });
      try {
        const body = (await (await fetch(`${dashboard.url}/api/runs`)).json()) as { runs: RunItem[] };
        expect(body.runs.map((r) => [r.ref, r.status])).toEqual(expected);
        expect(body.runs.find((r) => r.ref === killedRun!.ref)).toEqual(runs.find((r) => r.ref === killedRun!.ref));
      } finally {
        await dashboard.close();
        await served.close();
      }
    },
  );
});
