import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { until, watch } from '../../test/support/child.ts';
import { runCli, spawnCli } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig } from '../../test/support/history.ts';
import { CRASH, relayedPlace, type RelayedPlace } from '../../test/support/relayed.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const adminUrl = process.env.TEST_DATABASE_URL;

/**
 * A PostgreSQL restart under a running `ventas worker`, for real: the worker talks to the test's database through a
 * relay the test cuts and brings back; the shared server is never touched.
 */
describe.skipIf(!adminUrl)('a worker whose database restarts [postgres]', () => {
  let sim: RunningSimulator;
  let place: RelayedPlace;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, scale: 0.003 });
    place = await relayedPlace(adminUrl!, sim, historyConfig());
  });
  afterAll(async () => {
    await place?.cleanup();
    await sim?.close();
  });

  it('waits for it (said once), looks again with backoff, gives back the chunks in hand and finishes the queued backfill', async () => {
    const { db, proxy, cwd } = place;
    const logDir = place.env().LOG_DIR!;
    const window = ['--from', HISTORY.from, '--to', HISTORY.to, '--stores', HISTORY_STORES.join(',')];
    const queued = await runCli(['backfill', '--queue', ...window], { cwd, env: place.env() });
    expect(queued.code, queued.stderr).toBe(0);

    // Each answer takes a while, so the worker holds chunks whose request is out when the database goes.
    sim.options.latencyMs = [800, 0];
    const worker = watch(spawnCli(['worker', '--concurrency', '2'], { cwd, env: place.env() }));
    try {
      await place.untilDb(
        `SELECT count(*) FILTER (WHERE state = 'done') > 0 AS ok FROM backfill_chunks`,
        'un bloque hecho',
      );
      await until(() => sim.stats().inFlight > 0, 'una petición a KLK en curso');
      await proxy.stop('reset');
      await worker.printed(/Se perdió la conexión con la base de datos/);
      // The answers in flight arrive while the database is away and their loads try it (two tries each: the load,
      // then the hand-back): those chunks must go back to the ledger once it returns.
      await until(() => sim.stats().inFlight === 0, 'las respuestas en curso entregadas');
      const tried = proxy.rejected;
      await until(() => proxy.rejected >= tried + 2, 'la carga intentada sin base de datos');
      sim.options.latencyMs = [0, 0];
      await proxy.start();

      await worker.printed(/La base de datos responde de nuevo/);
      await place.untilDb(`SELECT status = 'complete' AS ok FROM backfills WHERE id = 1`, 'el backfill completo');
      await worker.printed(/Backfill #1 terminado: completo/);
      // Still at work: a restart of PostgreSQL does not end a worker.
      expect(worker.child.exitCode).toBeNull();
      expect(worker.stderr()).toMatch(
        /^Se perdió la conexión con la base de datos \(PostgreSQL en 127\.0\.0\.1:\d+\/\w+: conexión perdida \(.+\)\): el trabajador espera a que vuelva \(sin límite\), probando de nuevo con pausas crecientes\.$/m,
      );
      expect(worker.stderr()).toMatch(
        /^La base de datos responde de nuevo \(tras \d+(?:,\d)? s\): el trabajador sigue\.$/m,
      );
      // Said once for the outage, whatever the number of lanes, looks and maintenance rounds that met it.
      expect(worker.stderr().match(/Se perdió la conexión/g)).toHaveLength(1);
      expect(worker.stderr().match(/responde de nuevo/g)).toHaveLength(1);
      expect(worker.stdout()).toMatch(/^bloque #\d+ tienda_\d+ .*: devuelto a la cola$/m);
      expect(`${worker.stdout()}${worker.stderr()}`).not.toMatch(CRASH);

      // Every chunk done once, none spending an attempt on the outage; the table equals KLK.
      const { rows } = await db.query<{ states: string[]; attempts: number }>(
        `SELECT array_agg(DISTINCT state) AS states, max(attempts)::int AS attempts FROM backfill_chunks`,
      );
      expect(rows[0]).toEqual({ states: ['done'], attempts: 1 });
      await expectTableEqualsKlk(db, sim.options, historyConfig().stores, HISTORY);

      worker.child.kill('SIGTERM');
      expect(await worker.exit).toBe(0);
      expect(worker.stdout()).toContain('Trabajador detenido');
    } finally {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      sim.options.latencyMs = [0, 0];
    }
    // The log has the outage once too: no warning per failed maintenance round or per look at the queue.
    const log = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), 'utf8'))
      .join('')
      .split('\n')
      .filter((line) => line.includes(`"pid":${worker.child.pid},`));
    expect(log.filter((line) => line.includes('se perdió la conexión con la base de datos'))).toHaveLength(1);
    expect(log.filter((line) => /"level":(40|50),/.test(line))).toHaveLength(1);
  });
});
