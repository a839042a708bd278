import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Config } from '../catalogue/config.ts';
import { computeCoverage } from '../coverage/index.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient, KlkError, type KlkClient } from '../klk/index.ts';
import { planChunks } from '../plan/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { HISTORY, historyConfig, loadHistory } from '../../test/support/history.ts';
import { onFirstAnswer } from '../../test/support/klk.ts';
import { expectTableEqualsKlk, tableDays, truth } from '../../test/support/truth.ts';
import { exitCodeFor, UnreachableError } from '../shared/errors.ts';
import type { BreakerState } from './breaker.ts';
import { runBackfill, type BackfillDeps } from './run.ts';

describeEachBackend('runBackfill', (_open, _backend, prepared) => {
  let db: Db;
  let sim: RunningSimulator;
  let config: Config;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, scale: 0.003 });
    config = historyConfig();
  });
  afterAll(() => sim.close());
  // Each test starts from the same history, loaded through the ETL once and copied.
  const withHistory = prepared((db) => loadHistory(db, sim, config));
  beforeEach(async () => {
    Object.assign(sim.options, {
      failRate: 0,
      truncateRate: 0,
      listRate: 0,
      maxLines: null,
      voidRate: 0,
      latencyMs: [0, 0],
      duplicateRate: 0,
    });
    db = await withHistory();
    return () => db.close();
  });

  const deps = ({ klkTimeoutMs, ...extra }: Partial<BackfillDeps> & { klkTimeoutMs?: number } = {}): BackfillDeps => ({
    db,
    config,
    klk: createKlkClient({
      baseUrl: sim.url,
      attempts: 2,
      backoffMs: 5,
      timeoutMs: extra.breakerCooldownMs ? 2_000 : (klkTimeoutMs ?? 1_000),
    }),
    logger: silentLogger,
    retryDelayMs: 20,
    breakerCooldownMs: 100,
    ...extra,
  });
  const job = { ...HISTORY, stores: historyConfig().stores, concurrency: 3 };

  async function expectEqualToTruth() {
    await expectTableEqualsKlk(db, sim.options, config.stores, HISTORY);
  }

  it('plans exactly the missing and partial store-days, never a closed one, and ends with the table equal to KLK', async () => {
    const before = await computeCoverage(db, config, job);
    const targets = before.stores.flatMap((s) => [...s.missing, ...s.partial].map((d) => `${s.store} ${d}`)).sort();
    expect(targets).toContain('tienda_07 2025-12-04');
    expect(targets.some((t) => t.startsWith('tienda_18 2025-12-0') && t < 'tienda_18 2025-12-06')).toBe(false);
    let progress = { lines: -1, storeDaysDone: 0, storeDays: 0 };
    const outcome = await runBackfill(deps({ onProgress: (t) => (progress = t) }), job);
    const { rows: ledger } = await db.query<{ lines: number }>(
      `SELECT sum(lines)::int AS lines FROM backfill_chunks WHERE state = 'done'`,
    );
    expect(progress).toMatchObject({ lines: ledger[0]!.lines, storeDaysDone: progress.storeDays });
    const planned = planChunks(outcome.plan!).flatMap((c) => {
      const days: string[] = [];
      for (
        let d = c.dayFrom;
        d <= c.dayTo;
        d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
      )
        days.push(`${c.storeId} ${d}`);
      return days;
    });
    expect(planned.sort()).toEqual(targets);
    expect(outcome.summary).toMatchObject({
      status: 'complete',
      chunks: { failed: 0 },
      after: { missingStoreDays: 0, partialStoreDays: 0 },
    });
    expect(outcome.summary!.before.missingStoreDays).toBeGreaterThan(0);
    await expectEqualToTruth();
  });

  it('still ends equal to the truth through failures, truncated bodies and answers too big for the timeout', async () => {
    Object.assign(sim.options, { failRate: 0.2, truncateRate: 0.05, maxLines: 100, hangMs: 3_000 });
    // Answers too big hang; the client gives up on them after 500 ms (a slow small answer only costs a retry).
    const outcome = await runBackfill(deps({ maxAttempts: 20, klkTimeoutMs: 500 }), job);
    expect(outcome.summary!.status).toBe('complete');
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM backfill_chunks WHERE state = 'split'`,
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    await expectEqualToTruth();
  });

  it('pauses every request while KLK is down, probes it, and finishes once it is back', async () => {
    sim.options.failRate = 1;
    const states: BreakerState[] = [];
    // KLK comes back once a probe has found it still down (the breaker opened twice).
    const onBreaker = (state: BreakerState) => {
      states.push(state);
      if (states.filter((s) => s === 'open').length === 2) sim.options.failRate = 0;
    };
    const outcome = await runBackfill(deps({ onBreaker, maxAttempts: 50, breakerCooldownMs: 200 }), job);
    expect(outcome.summary!.status).toBe('complete');
    // Opened, probed, found KLK still down and opened again; closed once it answered (a probe, or a request that
    // was already on its way).
    expect(states.slice(0, 3)).toEqual(['open', 'half-open', 'open']);
    expect(states.at(-1)).toBe('closed');
    await expectEqualToTruth();
  });

  it('reports chunks that ran out of attempts as failed, and --resume finishes them', async () => {
    sim.options.failRate = 1;
    const failed = await runBackfill(deps({ maxAttempts: 1, breakerCooldownMs: 10 }), job);
    expect(failed.summary!.status).toBe('failed');
    expect(failed.summary!.chunks.failed).toBe(failed.summary!.chunks.total);
    sim.options.failRate = 0;
    const resumed = await runBackfill(deps(), { ...job, resume: true });
    expect(resumed.summary).toMatchObject({
      status: 'complete',
      backfillId: failed.summary!.backfillId,
      chunks: { failed: 0 },
    });
    expect(resumed.summary!.before).toEqual(failed.summary!.before);
    await expectEqualToTruth();
    // The run history: the failed run loaded nothing, the resumed one what the ledger says, store by store.
    const { rows: runs } = await db.query<{
      status: string;
      lines: number;
      inserted: number;
      stores: Record<string, { status: string; inserted: number }>;
    }>(
      `SELECT status, lines_extracted::int AS lines, rows_inserted::int AS inserted, store_results AS stores FROM etl_runs WHERE run_type = 'backfill' ORDER BY id`,
    );
    const { rows: ledger } = await db.query<{ lines: number; inserted: number }>(
      `SELECT sum(lines)::int AS lines, sum(rows_inserted)::int AS inserted FROM backfill_chunks WHERE state = 'done'`,
    );
    expect(runs.map((r) => [r.status, r.lines])).toEqual([
      ['failed', 0],
      ['success', ledger[0]!.lines],
    ]);
    expect(runs[1]!.inserted).toBe(ledger[0]!.inserted);
    expect(Object.values(runs[1]!.stores).every((s) => s.status === 'success')).toBe(true);
    expect(Object.values(runs[1]!.stores).reduce((n, s) => n + s.inserted, 0)).toBe(ledger[0]!.inserted);
  });

  it('gives up once KLK has failed for too long: unreachable (exit 3), the resume command named, nothing lost', async () => {
    sim.options.failRate = 1;
    const error = await runBackfill(deps({ maxAttempts: 50, breakerCooldownMs: 50, giveUpAfterMs: 400 }), job).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnreachableError);
    expect(exitCodeFor(error)).toBe(3);
    expect((error as Error).message).toContain('npx ventas backfill --resume');
    const { rows } = await db.query(
      `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state IN ('running', 'done'))::int AS other
       FROM backfill_chunks WHERE state <> 'split'`,
    );
    expect(rows[0]).toMatchObject({ other: 0 });
    expect((rows[0] as { pending: number }).pending).toBeGreaterThan(0);
    sim.options.failRate = 0;
    expect((await runBackfill(deps(), { ...job, resume: true })).summary!.status).toBe('complete');
    await expectEqualToTruth();
  });

  it('a KLK that takes the connection and never answers: exit 3 once the first-answer limit passes, resumable', async () => {
    // A request hangs (its own timeout is a minute away): only the first-answer limit can end the run.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const klk = createKlkClient({ baseUrl: `http://127.0.0.1:${port}`, attempts: 2, timeoutMs: 60_000 });
      const error = await runBackfill(deps({ klk, firstAnswerMs: 200 }), job).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreachableError);
      expect((error as Error).message).toMatch(
        /^KLK no ha respondido a ninguna petición en 0,2 s: el backfill #\d+ se detiene/,
      );
      expect((error as Error).message).toContain('Reanude con: npx ventas backfill --resume');
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
    // Nothing left held or shown running: what was in hand went back, attempts not spent.
    const { rows } = await db.query(
      `SELECT (SELECT status FROM backfills) AS status, count(*) FILTER (WHERE state = 'running')::int AS running,
         count(*) FILTER (WHERE state = 'pending' AND attempts = 0)::int AS untouched, count(*)::int AS total
       FROM backfill_chunks`,
    );
    expect(rows[0]).toMatchObject({ status: 'failed', running: 0 });
    expect((rows[0] as { untouched: number; total: number }).untouched).toBe((rows[0] as { total: number }).total);
    expect((await runBackfill(deps(), { ...job, resume: true })).summary!.status).toBe('complete');
    await expectEqualToTruth();
  });

  /** The simulator's client, whose requests after the first fail as a KLK that is gone fails: nothing answers. */
  function answersOnceThenDies(): KlkClient {
    const real = createKlkClient({ baseUrl: sim.url, attempts: 1 });
    let calls = 0;
    return {
      stats: () => real.stats(),
      fetchVentas: async (request, newCollector, options) => {
        if (calls++ === 0) return real.fetchVentas(request, newCollector, options);
        throw new KlkError('network', 'no se pudo conectar con KLK (ECONNREFUSED)', 1);
      },
    };
  }

  it.each([
    [
      'answers only errors (HTTP 500)',
      () => {
        sim.options.failRate = 1;
        return undefined;
      },
    ],
    ['answered once and then is gone', answersOnceThenDies],
  ])('a KLK that %s has answered: it gets the long patience, not the first-answer limit', async (_name, setUp) => {
    const klk = setUp();
    const error = await runBackfill(
      // The first answer (an HTTP 500 or one good answer) comes in milliseconds; 6 s leave a busy machine room (1 s
      // and 3 s did not, once each). Giving up comes after the first-answer limit, so a run that kept that limit would
      // meet it. It costs no time: the check is made when the breaker's probe goes, 6.35 s after it first opened
      // (cooldowns of 50 ms, doubled at each failed probe), whether the patience is 3.5 s or 6.1 s.
      deps({ ...(klk && { klk }), maxAttempts: 50, breakerCooldownMs: 50, firstAnswerMs: 6_000, giveUpAfterMs: 6_100 }),
      job,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as Error).message).toMatch(/^KLK no responde desde hace [\d.,]+ s/);
  });

  it('stopped (Ctrl-C): no chunk is started after, the one in flight is finished, the run and its record end interrupted', async () => {
    sim.options.latencyMs = [100, 0];
    const stop = new AbortController();
    // The signal lands once KLK has answered a first request (an event: progress is only reported now and then).
    const stopAfterFirstAnswer = onFirstAnswer(createKlkClient({ baseUrl: sim.url, attempts: 2, backoffMs: 5 }), () =>
      stop.abort(),
    );
    const outcome = await runBackfill(deps({ stop: stop.signal, klk: stopAfterFirstAnswer }), {
      ...job,
      concurrency: 1,
    });
    expect(outcome.summary).toMatchObject({ status: 'interrupted' });
    const { rows } = await db.query(
      `SELECT (SELECT status FROM backfills) AS backfill, (SELECT status FROM etl_runs WHERE run_type = 'backfill') AS run,
         count(*) FILTER (WHERE state = 'running')::int AS running, count(*) FILTER (WHERE state = 'pending' AND attempts > 0)::int AS spent,
         count(*) FILTER (WHERE state = 'pending')::int AS pending
       FROM backfill_chunks`,
    );
    expect(rows[0]).toMatchObject({ backfill: 'interrupted', run: 'interrupted', running: 0, spent: 0 });
    expect((rows[0] as { pending: number }).pending).toBeGreaterThan(0);
  });

  it('stopped while chunks wait for a paused KLK: they go back to the ledger at once, unsent', async () => {
    sim.options.failRate = 1;
    const stop = new AbortController();
    let opened = false;
    const run = runBackfill(
      deps({
        stop: stop.signal,
        maxAttempts: 50,
        breakerCooldownMs: 600_000,
        onBreaker: (state) => {
          if (state !== 'open' || opened) return;
          opened = true;
          // Every other chunk is now claimed and waiting for the breaker, ten minutes away.
          setImmediate(() => stop.abort());
        },
      }),
      job,
    );
    const outcome = await run;
    expect(outcome.summary).toMatchObject({ status: 'interrupted', chunks: { done: 0 } });
    const { rows } = await db.query(
      `SELECT count(*) FILTER (WHERE state = 'running')::int AS running FROM backfill_chunks`,
    );
    expect(rows).toEqual([{ running: 0 }]);
  });

  it('counts a load the table refuses as a failed attempt and ends, instead of taking the chunk back forever', async () => {
    await db.exec(`ALTER TABLE ventas ADD CONSTRAINT no_centro CHECK (ubicacion_id <> 'tienda_07') NOT VALID`);
    const outcome = await runBackfill(deps({ maxAttempts: 2 }), job);
    expect(outcome.summary!.status).not.toBe('complete');
    const { rows } = await db.query(
      `SELECT DISTINCT state, error LIKE 'carga fallida:%no_centro%' AS refused FROM backfill_chunks WHERE store_id = 'tienda_07' AND state <> 'split'`,
    );
    expect(rows).toEqual([{ state: 'failed', refused: true }]);
    const others = await db.query(
      `SELECT DISTINCT state FROM backfill_chunks WHERE store_id <> 'tienda_07' AND state <> 'split'`,
    );
    expect(others.rows).toEqual([{ state: 'done' }]);
  });

  it('waits for chunks another process still holds, and finishes them once that lease expires', async () => {
    sim.options.failRate = 1;
    const failed = await runBackfill(deps({ maxAttempts: 1, breakerCooldownMs: 10 }), job);
    sim.options.failRate = 0;
    await db.query(
      `UPDATE backfill_chunks SET state = 'running', lease_owner = 'otra-maquina:1:abcd', lease_until = now() + interval '1 second'
       WHERE id = (SELECT min(id) FROM backfill_chunks WHERE backfill_id = $1)`,
      [failed.summary!.backfillId],
    );
    const resuming = runBackfill(deps(), { ...job, resume: true });
    // While it works again (the held chunk keeps it going for a second), the backfill shows as running, not as
    // the failure it was.
    await expect
      .poll(async () => (await db.query(`SELECT status FROM backfills`)).rows, { interval: 10 })
      .toEqual([{ status: 'running' }]);
    const resumed = await resuming;
    expect(resumed.summary).toMatchObject({ status: 'complete', chunks: { failed: 0 } });
    await expectEqualToTruth();
  });

  it('--mirror deletes lines that vanished at the source only when the answer was verified complete', async () => {
    await runBackfill(deps(), job);
    sim.options.voidRate = 0.3;
    // A bare list has no total_registros: nothing proves the answer complete, so nothing is deleted.
    sim.options.listRate = 1;
    const { rows: chunks } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ventas`);
    const storesToReload = config.stores.filter((s) => s.id === 'tienda_01');
    const reload = { ...job, stores: storesToReload, mirror: true };
    await db.query(`DELETE FROM store_days WHERE store_id = 'tienda_01' AND day = '2025-12-01'`);
    const unverified = await runBackfill(deps(), reload);
    expect(unverified.summary!.rowsDeleted).toBe(0);
    sim.options.listRate = 0;
    await db.query(`DELETE FROM store_days WHERE store_id = 'tienda_01' AND day = '2025-12-01'`);
    const verified = await runBackfill(deps(), reload);
    expect(verified.summary!.rowsDeleted).toBeGreaterThan(0);
    const { rows: after } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ventas`);
    expect(after[0]!.n).toBe(chunks[0]!.n - verified.summary!.rowsDeleted);
    expect(await tableDays(db, 'tienda_01', '2025-12-01', '2025-12-01')).toEqual(
      truth(sim.options, storesToReload[0]!, '2025-12-01', '2025-12-01'),
    );
  });

  it('--dry-run plans and writes nothing', async () => {
    const { rows: before } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ventas`);
    const outcome = await runBackfill(deps(), { ...job, dryRun: true });
    expect(outcome.summary).toBeNull();
    expect(outcome.plan!.totals.missingStoreDays).toBeGreaterThan(0);
    const { rows } = await db.query<{ v: number; b: number }>(
      `SELECT (SELECT count(*) FROM ventas)::int AS v, (SELECT count(*) FROM backfills)::int AS b`,
    );
    expect(rows[0]).toEqual({ v: before[0]!.n, b: 0 });
  });
});
