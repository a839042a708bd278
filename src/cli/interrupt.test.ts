import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { INTERRUPT_GRACE_MS } from './interrupt.ts';
import { watch, until } from '../../test/support/child.ts';
import { describeEachCliBackend, runCli, startCli, type CliPlace } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig, loadHistory } from '../../test/support/history.ts';
import { expectTableEqualsKlk, tableDays, truth } from '../../test/support/truth.ts';

/**
 * Ctrl-C and SIGTERM on the real process, as a terminal, cron or systemd sends them: the process is what these test.
 * Each waits on events (a line of output, the simulator's requests in flight), never on a fixed pause.
 */
describeEachCliBackend('signals', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  const config = historyConfig();
  const window = ['--from', HISTORY.from, '--to', HISTORY.to, '--stores', HISTORY_STORES.join(',')];

  // One database for the whole story (a process start and a history load cost seconds): a backfill interrupted by
  // SIGINT, its resume interrupted by SIGTERM, the next resume stopped by two signals, the last one finishing it.
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    place = await backend.place();
    const db = await place.open();
    try {
      await loadHistory(db, sim, config);
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await place?.cleanup();
  });
  const env = () => ({ ...place.env, KLK_BASE_URL: sim.url });

  async function ledger() {
    const db = await place.open();
    try {
      const { rows: runs } = await db.query<{ backfill: string; run: string }>(
        `SELECT b.status AS backfill, r.status AS run FROM backfills b, etl_runs r WHERE r.run_type = 'backfill' ORDER BY r.id`,
      );
      const { rows: chunks } = await db.query<{ id: number; state: string; attempts: number }>(
        `SELECT id, state, attempts FROM backfill_chunks WHERE state <> 'split' ORDER BY id`,
      );
      return { runs, chunks, done: chunks.filter((c) => c.state === 'done').length };
    } finally {
      await db.close();
    }
  }

  it.each([
    ['SIGINT', 130, ['backfill', ...window, '--concurrency', '1'], /Backfill #1\n/],
    ['SIGTERM', 143, ['backfill', '--resume', '--concurrency', '1'], /Reanudando el backfill #1\n/],
  ] as const)(
    'backfill, %s once: in-flight chunks finish, the run is interrupted with the resume command, exit %i',
    async (signal, code, args, started) => {
      // One request at a time, each slow: when the signal lands one is in flight and most of the work is left.
      sim.options.latencyMs = [400, 0];
      const before = await ledger();
      const run = watch(await startCli([...args], { cwd: place.cwd, env: env() }));
      await run.printed(started);
      await until(() => sim.stats().inFlight > 0, 'una petición en curso');
      run.child.kill(signal);
      expect(await run.exit).toBe(code);
      expect(run.stderr()).toContain(
        `${signal}: no se toman más bloques; los que están en curso terminan (20 s como máximo; otra señal los devuelve ya)`,
      );
      expect(run.stdout()).toMatch(/Backfill #1: interrumpido en [\d.,]+ s\n/);
      expect(run.stdout().trim().split('\n').at(-1)).toBe('Para reanudar lo que faltó: npx ventas backfill --resume 1');

      const after = await ledger();
      // The backfill and this execution's run record both interrupted (an earlier execution's stays as it ended).
      expect(after.runs.at(-1)).toEqual({ backfill: 'interrupted', run: 'interrupted' });
      expect(after.runs.every((r) => r.run === 'interrupted')).toBe(true);
      // The chunk in flight finished; nothing is left held; what is left was never tried (no attempt spent).
      expect(after.done).toBeGreaterThan(before.done);
      expect(after.chunks.filter((c) => c.state === 'running')).toEqual([]);
      const left = after.chunks.filter((c) => c.state === 'pending');
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((c) => c.attempts === 0)).toBe(true);
    },
  );

  it('backfill, a second signal: the chunks in flight go back at once, untouched', async () => {
    // Answers that take far longer than the test: only the second signal can end the run before they come.
    sim.options.latencyMs = [60_000, 0];
    const before = await ledger();
    const run = watch(await startCli(['backfill', '--resume', '--concurrency', '2'], { cwd: place.cwd, env: env() }));
    await run.printed(/Reanudando el backfill #1\n/);
    await until(() => sim.stats().inFlight >= 2, 'dos peticiones en curso');
    run.child.kill('SIGINT');
    await run.printed(/SIGINT: no se toman más bloques/);
    const second = Date.now();
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    // Without the second signal the grace (20 s) would have run out first.
    expect(Date.now() - second).toBeLessThan(INTERRUPT_GRACE_MS);
    expect(run.stderr()).toContain('SIGINT: los bloques en curso vuelven al registro sin gastar un intento');
    expect(run.stdout()).toContain('Backfill #1: interrumpido');
    const after = await ledger();
    expect(after.runs.at(-1)).toEqual({ backfill: 'interrupted', run: 'interrupted' });
    // Exactly as before this run: nothing done meanwhile, every chunk back where it was, no attempt spent.
    expect(after.chunks).toEqual(before.chunks);
  });

  it('the resume after all of them ends equal to KLK: nothing lost, nothing twice', async () => {
    sim.options.latencyMs = [0, 0];
    const resumed = await runCli(['backfill', '--resume', '--format', 'json'], { cwd: place.cwd, env: env() });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      runId: 1,
      status: 'complete',
      after: { missingStoreDays: 0, partialStoreDays: 0 },
    });
    const db = await place.open();
    try {
      // Every store's days, line count and USD total equal to the simulator's truth.
      await expectTableEqualsKlk(db, sim.options, config.stores, HISTORY);
    } finally {
      await db.close();
    }
  });

  // The ETL, as cron runs it: another window of the same stores, untouched by the backfill above.
  const ETL_DAYS = { from: '2026-01-05', to: '2026-01-09' };
  const etlArgs = [
    'etl',
    '--tiendas',
    'tienda_01',
    'tienda_02',
    '--fecha-desde',
    `${ETL_DAYS.from} 00:00`,
    '--fecha-hasta',
    `${ETL_DAYS.to} 23:59`,
  ];

  async function etlRecord() {
    const db = await place.open();
    try {
      const { rows: runs } = await db.query<{ status: string }>(
        `SELECT status FROM etl_runs WHERE run_type = 'manual' ORDER BY id`,
      );
      const { rows: leases } = await db.query(`SELECT store_id FROM store_leases`);
      return { runs: runs.map((r) => r.status), leases };
    } finally {
      await db.close();
    }
  }

  it('etl, SIGTERM once: the request in flight finishes, the run is interrupted, its leases released, exit 143; the printed commands load the rest', async () => {
    sim.options.latencyMs = [400, 0];
    const before = await etlRecord();
    const run = watch(await startCli([...etlArgs, '--concurrency', '1'], { cwd: place.cwd, env: env() }));
    await until(() => sim.stats().inFlight > 0, 'una petición en curso');
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    expect(run.stderr()).toContain(
      'SIGTERM: no se empiezan más peticiones; las que están en curso terminan (20 s como máximo; otra señal las corta ya)',
    );
    expect(run.stdout()).toMatch(/ETL de ventas · ejecución manual #\d+ · interrumpida/);
    expect(run.stdout()).toMatch(/Tiendas: +\d+ ok, 0 con error, 0 omitidas, \d+ interrumpidas?/);
    // What was in flight when the signal came was finished and loaded, not thrown away.
    expect(run.stdout()).toMatch(/Filas: +[1-9][\d.]* insertadas/);
    const commands = run
      .stdout()
      .split('Para reanudar lo que faltó:\n')[1]!
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands)
      expect(c).toMatch(
        /^ventas etl --tiendas (tienda_0[12] ?)+ --fecha-desde "2026-01-0\d \d\d:\d\d" --fecha-hasta "2026-01-09 23:59"$/,
      );
    expect(await etlRecord()).toEqual({ runs: [...before.runs, 'interrupted'], leases: [] });

    sim.options.latencyMs = [0, 0];
    for (const command of commands) {
      const args = command
        .match(/"[^"]*"|\S+/g)!
        .slice(1)
        .map((a) => a.replace(/^"|"$/g, ''));
      const resumed = await runCli(args, { cwd: place.cwd, env: env() });
      expect(resumed.code, resumed.stderr).toBe(0);
    }
    const db = await place.open();
    try {
      for (const store of config.stores.filter((s) => ['tienda_01', 'tienda_02'].includes(s.id))) {
        expect(await tableDays(db, store.id, ETL_DAYS.from, ETL_DAYS.to)).toEqual(
          truth(sim.options, store, ETL_DAYS.from, ETL_DAYS.to),
        );
      }
    } finally {
      await db.close();
    }
  });

  it('etl, a second signal cuts the requests in flight: exit 130 at once, the run interrupted, its leases released', async () => {
    sim.options.latencyMs = [60_000, 0];
    const before = await etlRecord();
    const run = watch(await startCli([...etlArgs, '--concurrency', '2'], { cwd: place.cwd, env: env() }));
    await until(() => sim.stats().inFlight >= 2, 'dos peticiones en curso');
    run.child.kill('SIGINT');
    await run.printed(/SIGINT: no se empiezan más peticiones/);
    const second = Date.now();
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(Date.now() - second).toBeLessThan(INTERRUPT_GRACE_MS);
    expect(run.stderr()).toContain(
      'SIGINT: se cortan las peticiones en curso; sus ventanas quedan en el comando que reanuda',
    );
    expect(run.stdout()).toContain(
      `ventas etl --tiendas tienda_01 tienda_02 --fecha-desde "${ETL_DAYS.from} 00:00" --fecha-hasta "${ETL_DAYS.to} 23:59"`,
    );
    expect(await etlRecord()).toEqual({ runs: [...before.runs, 'interrupted'], leases: [] });
  });
});
