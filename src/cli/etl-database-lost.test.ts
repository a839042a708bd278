import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { runCli } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig } from '../../test/support/history.ts';
import { CRASH, relayedPlace, type RelayedPlace } from '../../test/support/relayed.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const adminUrl = process.env.TEST_DATABASE_URL;

/** PostgreSQL lost in the middle of `ventas etl`: the command reaches it through a relay the test cuts. */
describe.skipIf(!adminUrl)('ventas etl whose database is lost mid-run [postgres]', () => {
  const config = historyConfig();
  const etlWindow = [
    '--tiendas',
    ...HISTORY_STORES,
    '--fecha-desde',
    `${HISTORY.from} 00:00`,
    '--fecha-hasta',
    `${HISTORY.to} 23:59`,
  ];
  let sim: RunningSimulator;
  let place: RelayedPlace;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    place = await relayedPlace(adminUrl!, sim, config);
    // Answers take a while, so there is work left when the database goes.
    sim.options.latencyMs = [150, 0];
    return async () => {
      sim.options.latencyMs = [0, 0];
      await place.cleanup();
    };
  });

  const firstWindowLoaded = () =>
    place.untilDb(
      `SELECT EXISTS (SELECT 1 FROM klk_requests r JOIN etl_runs e ON e.id = r.run_id WHERE e.status = 'running' AND r.outcome = 'ok') AS ok`,
      'una ventana cargada',
    );

  async function expectEqualToKlk(): Promise<void> {
    await expectTableEqualsKlk(place.db, sim.options, config.stores, HISTORY);
  }

  it('a database that does not come back is exit 3 with the command that repeats it; the run reads interrupted, then is closed', async () => {
    const run = place.start(['etl', ...etlWindow], 0.5);
    await firstWindowLoaded();
    await place.proxy.stop();
    sim.options.latencyMs = [0, 0];
    expect(await run.exit).toBe(3);
    const stderr = run.stderr();
    expect(stderr).toMatch(
      /^Se perdió la conexión con la base de datos \(PostgreSQL en 127\.0\.0\.1:\d+\/\w+: .+\): la ejecución espera a que vuelva \(hasta 0,5 s\)/m,
    );
    const error =
      /^error: se perdió la conexión con la base de datos \(PostgreSQL en 127\.0\.0\.1:\d+\/\w+: conexión rechazada; sin respuesta durante \d+,\d s\): la ejecución (etl-\d+) se detiene con lo hecho guardado\. Cuando PostgreSQL vuelva, repítala con: (ventas etl .+)$/m.exec(
        stderr,
      );
    expect(error, stderr).not.toBeNull();
    const [, ref, command] = error!;
    expect(command).toBe(
      `ventas etl --tiendas ${HISTORY_STORES.join(' ')} --fecha-desde "${HISTORY.from} 00:00" --fecha-hasta "${HISTORY.to} 23:59"`,
    );
    expect(`${run.stdout()}${stderr}`).not.toMatch(CRASH);
    // Its process is gone: the run it could not close reads interrupted, not running.
    expect((await place.runs()).find((r) => r.ref === ref)).toMatchObject({ status: 'interrupted' });

    await place.proxy.start();
    const argv = [...command!.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
    const again = await runCli([...argv, '--format', 'json'], { cwd: place.cwd, env: place.env() });
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary.status).toBe('success');
    await expectEqualToKlk();
    // Taking its stores over, the new run recorded the dead one as interrupted: no run is left running.
    const { rows } = await place.db.query<{ id: number; status: string; error: string | null }>(
      `SELECT id, status, error FROM etl_runs WHERE id > 1 ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: Number(ref!.slice(4)),
        status: 'interrupted',
        error: `su proceso terminó sin cerrarla; sus tiendas las retomó la ejecución etl-${summary.runId}`,
      },
      { id: summary.runId, status: 'success', error: null },
    ]);
    expect((await place.runs()).find((r) => r.ref === ref)).toMatchObject({ status: 'interrupted' });
  });

  it('a database back within the patience is waited out: the loads it cut short are made again and the run succeeds', async () => {
    const run = place.start(['etl', ...etlWindow, '--format', 'json'], 30);
    await firstWindowLoaded();
    await place.proxy.stop();
    sim.options.latencyMs = [0, 0];
    await run.printed(/Se perdió la conexión con la base de datos/);
    await place.proxy.start();
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/^La base de datos responde de nuevo \(tras \d+(?:,\d)? s\): la ejecución sigue\.$/m);
    // One outage, said once, however many tasks met it.
    expect(run.stderr().match(/Se perdió la conexión/g)).toHaveLength(1);
    expect(`${run.stdout()}${run.stderr()}`).not.toMatch(CRASH);
    expect(JSON.parse(run.stdout())).toMatchObject({ status: 'success', storesOk: HISTORY_STORES.length });
    await expectEqualToKlk();
  });
});
