import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { runCli } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig } from '../../test/support/history.ts';
import { CRASH, relayedPlace, type RelayedPlace } from '../../test/support/relayed.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const adminUrl = process.env.TEST_DATABASE_URL;

/** PostgreSQL lost in the middle of `ventas backfill`: the command reaches it through a relay the test cuts. */
describe.skipIf(!adminUrl)('ventas backfill whose database is lost mid-run [postgres]', () => {
  const config = historyConfig();
  const window = ['--from', HISTORY.from, '--to', HISTORY.to, '--stores', HISTORY_STORES.join(',')];
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

  const firstChunkDone = () =>
    place.untilDb(`SELECT count(*) FILTER (WHERE state = 'done') > 0 AS ok FROM backfill_chunks`, 'un bloque hecho');

  async function expectEqualToKlk(): Promise<void> {
    await expectTableEqualsKlk(place.db, sim.options, config.stores, HISTORY);
  }

  it('a database that does not come back is exit 3 with the resume command; once it is back, that command finishes it', async () => {
    const run = place.start(['backfill', ...window, '--concurrency', '1'], 0.5);
    await firstChunkDone();
    await place.proxy.stop();
    sim.options.latencyMs = [0, 0];
    expect(await run.exit).toBe(3);
    const stderr = run.stderr();
    expect(stderr).toMatch(
      /^Se perdió la conexión con la base de datos \(PostgreSQL en 127\.0\.0\.1:\d+\/\w+: .+\): el backfill espera a que vuelva \(hasta 0,5 s\)/m,
    );
    const error =
      /^error: se perdió la conexión con la base de datos \(PostgreSQL en 127\.0\.0\.1:\d+\/\w+: conexión rechazada; sin respuesta durante \d+,\d s\): el backfill #1 se detiene con lo hecho guardado\. Cuando PostgreSQL vuelva, reanude con: (npx ventas backfill --resume 1)$/m.exec(
        stderr,
      );
    expect(error, stderr).not.toBeNull();
    const resume = error![1]!;
    expect(`${run.stdout()}${stderr}`).not.toMatch(CRASH);

    // Its process is gone: nothing shows it running; it reads interrupted, resumable with that same command.
    expect((await place.runs()).find((r) => r.ref === '1')).toMatchObject({
      status: 'interrupted',
      resumable: true,
      command: resume,
    });

    await place.proxy.start();
    const resumed = await runCli([...resume.split(' ').slice(2), '--format', 'json'], {
      cwd: place.cwd,
      env: place.env(),
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      runId: 1,
      status: 'complete',
      chunks: { failed: 0 },
      after: { missingStoreDays: 0, partialStoreDays: 0 },
    });
    await expectEqualToKlk();
    const { rows } = await place.db.query<{ state: string }>(`SELECT DISTINCT state FROM backfill_chunks`);
    expect(rows.every((r) => r.state === 'done' || r.state === 'split')).toBe(true);
  });

  it('a database back within the patience (a restart) is waited out: the run finishes, no attempt spent on the outage', async () => {
    const run = place.start(['backfill', ...window, '--concurrency', '1', '--format', 'json'], 30);
    await firstChunkDone();
    await place.proxy.stop();
    sim.options.latencyMs = [0, 0];
    await run.printed(/Se perdió la conexión con la base de datos/);
    await place.proxy.start();
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/^La base de datos responde de nuevo \(tras \d+(?:,\d)? s\): el backfill sigue\.$/m);
    expect(run.stderr().match(/Se perdió la conexión/g)).toHaveLength(1);
    expect(`${run.stdout()}${run.stderr()}`).not.toMatch(CRASH);
    expect(JSON.parse(run.stdout().trim().split('\n').at(-1)!)).toMatchObject({
      status: 'complete',
      after: { missingStoreDays: 0, partialStoreDays: 0 },
    });
    await expectEqualToKlk();
    // The chunks the outage cut short went back to the ledger with their attempt given back.
    const { rows } = await place.db.query<{ states: string[]; attempts: number }>(
      `SELECT array_agg(DISTINCT state) AS states, max(attempts)::int AS attempts FROM backfill_chunks`,
    );
    expect(rows[0]).toEqual({ states: ['done'], attempts: 1 });
  });
});
