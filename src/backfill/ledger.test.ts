import { beforeEach, expect, it } from 'vitest';
import type { Db } from '../db/types.ts';
import { runStartedAt, startRun } from '../sync/runs.ts';
import { describeEachBackend } from '../../test/backends.ts';
import {
  backfillStatus,
  cancelBackfill,
  claimChunk,
  completeChunk,
  createBackfill,
  failChunk,
  failedChunks,
  finishBackfill,
  getBackfill,
  ledgerTotals,
  releaseChunk,
  releaseChunks,
  remainingChunks,
  renewChunkLeases,
  reopenBackfill,
  retryFailedChunks,
  runStoreResults,
  splitChunk,
  type Chunk,
} from './ledger.ts';

/**
 * The chunk ledger through its functions alone: what each does to a chunk's state, attempts, lease and figures, and
 * that only the chunk's owner may conclude it. Which chunks may be claimed is claim.test.ts's subject.
 */

const params = {
  from: '2026-01-05',
  to: '2026-01-08',
  stores: ['tienda_01', 'tienda_02'],
  mirror: false,
  concurrency: 2,
  before: { expectedStoreDays: 8, missingStoreDays: 8, partialStoreDays: 0 },
};
/** Owners of processes on other hosts that name no liveness lock: alive for as long as their leases run. */
const A = 'maquina-a:101:a1';
const B = 'maquina-b:202:b2';
const C = 'maquina-c:303:c3';
const LEASE = 60_000;
/** A lease that is over as soon as it is taken: the chunk is free to claim, as after its owner stalled. */
const RUN_OUT = -1;
/** A retry pause longer than any test. */
const PAUSE = 600_000;

const ZERO_TOTALS = {
  total: 0,
  done: 0,
  failed: 0,
  pending: 0,
  running: 0,
  storeDays: 0,
  storeDaysDone: 0,
  lines: 0,
  inserted: 0,
  updated: 0,
  deleted: 0,
  duplicates: 0,
  quarantined: 0,
};

function loaded(
  lines: number,
  extra: Partial<{ inserted: number; updated: number; deleted: number; duplicates: number; quarantined: number }> = {},
) {
  return { lines, inserted: lines, updated: 0, deleted: 0, duplicates: 0, quarantined: 0, ...extra };
}

describeEachBackend('the chunk ledger', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  /** A backfill of tienda_01's 5-6 and 7-8 January and tienda_02's 5-6, created in a shuffled order. */
  const threeChunks = () =>
    createBackfill(db, params, [
      { storeId: 'tienda_02', dayFrom: '2026-01-05', dayTo: '2026-01-06' },
      { storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-06' },
      { storeId: 'tienda_01', dayFrom: '2026-01-07', dayTo: '2026-01-08' },
    ]);
  const oneChunk = () =>
    createBackfill(db, params, [{ storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-08' }]);
  /** The chunks still to do, as a resume sees them: where, state, attempts, error, held. */
  const remaining = async (backfillId: number) =>
    (await remainingChunks(db, backfillId)).map((c) => ({
      at: `${c.storeId} ${c.dayFrom}..${c.dayTo}`,
      state: c.state,
      attempts: c.attempts,
      error: c.error,
      held: c.held,
    }));

  it('createBackfill records its parameters, running, and one pending chunk per range, none attempted', async () => {
    const id = await threeChunks();
    const row = await getBackfill(db, id);
    expect(row).toMatchObject({ id, status: 'running', params, summary: null, finishedAt: null });
    expect(row!.createdAt).toBeInstanceOf(Date);
    expect(await backfillStatus(db, id)).toBe('running');
    // By store and day, whatever the order they were given in.
    expect(await remaining(id)).toEqual([
      { at: 'tienda_01 2026-01-05..2026-01-06', state: 'pending', attempts: 0, error: null, held: false },
      { at: 'tienda_01 2026-01-07..2026-01-08', state: 'pending', attempts: 0, error: null, held: false },
      { at: 'tienda_02 2026-01-05..2026-01-06', state: 'pending', attempts: 0, error: null, held: false },
    ]);
    expect(await ledgerTotals(db, id)).toEqual({ ...ZERO_TOTALS, total: 3, pending: 3, storeDays: 6 });
    // Each backfill has its own chunks; an unknown one has nothing.
    const other = await createBackfill(db, params, []);
    expect(await ledgerTotals(db, other)).toEqual(ZERO_TOTALS);
    expect(await getBackfill(db, other + 1)).toBeNull();
    expect(await backfillStatus(db, other + 1)).toBeNull();
  });

  it('completeChunk marks the owner’s chunk done with its figures, once; another process’s completion is refused', async () => {
    const id = await threeChunks();
    const chunk = (await claimChunk(db, id, A, LEASE))!;
    expect(chunk).toMatchObject({
      backfillId: id,
      storeId: 'tienda_02',
      dayFrom: '2026-01-05',
      dayTo: '2026-01-06',
      state: 'running',
      attempts: 1,
    });
    expect(await completeChunk(db, chunk.id, B, loaded(5))).toBe(false);
    expect((await remaining(id))[2]).toMatchObject({ state: 'running', held: true });
    const figures = { lines: 1000, inserted: 900, updated: 50, deleted: 2, duplicates: 30, quarantined: 20 };
    expect(await completeChunk(db, chunk.id, A, figures)).toBe(true);
    expect(await completeChunk(db, chunk.id, A, figures)).toBe(false);
    expect(await ledgerTotals(db, id)).toEqual({
      ...ZERO_TOTALS,
      total: 3,
      done: 1,
      pending: 2,
      storeDays: 6,
      storeDaysDone: 2,
      ...figures,
    });
    expect((await remaining(id)).map((c) => c.at)).toEqual([
      'tienda_01 2026-01-05..2026-01-06',
      'tienda_01 2026-01-07..2026-01-08',
    ]);
  });

  it('a chunk whose lease ran out and that another took is no longer its first owner’s to complete, fail, split or give back', async () => {
    const id = await oneChunk();
    const first = (await claimChunk(db, id, A, RUN_OUT))!;
    const taken = (await claimChunk(db, id, B, LEASE))!;
    expect(taken).toMatchObject({ id: first.id, attempts: 2 });
    expect(await completeChunk(db, first.id, A, loaded(10))).toBe(false);
    await failChunk(db, first.id, A, 'tarde', { final: true, retryInMs: 0 });
    expect(
      await splitChunk(db, first, A, [
        { dayFrom: '2026-01-05', dayTo: '2026-01-06' },
        { dayFrom: '2026-01-07', dayTo: '2026-01-08' },
      ]),
    ).toBe(false);
    await releaseChunk(db, first.id, A);
    await releaseChunks(db, A);
    expect(await remaining(id)).toEqual([
      { at: 'tienda_01 2026-01-05..2026-01-08', state: 'running', attempts: 2, error: null, held: true },
    ]);
    expect(await completeChunk(db, taken.id, B, loaded(10))).toBe(true);
    expect(await ledgerTotals(db, id)).toMatchObject({ total: 1, done: 1, lines: 10 });
  });

  it('failChunk with attempts left: pending again after a pause with its error, taken by nobody until the pause is over', async () => {
    const paused = await oneChunk();
    const chunk = (await claimChunk(db, paused, A, LEASE))!;
    await failChunk(db, chunk.id, B, 'no es suyo', { final: false, retryInMs: PAUSE });
    expect((await remaining(paused))[0]).toMatchObject({ state: 'running', error: null });
    await failChunk(db, chunk.id, A, 'KLK respondió HTTP 503', { final: false, retryInMs: PAUSE });
    expect(await remaining(paused)).toEqual([
      {
        at: 'tienda_01 2026-01-05..2026-01-08',
        state: 'pending',
        attempts: 1,
        error: 'KLK respondió HTTP 503',
        held: false,
      },
    ]);
    expect(await claimChunk(db, paused, B, LEASE)).toBeNull();
    expect(await claimChunk(db, paused, A, LEASE)).toBeNull();
    expect(await ledgerTotals(db, paused)).toMatchObject({ pending: 1, running: 0, failed: 0 });
    expect(await failedChunks(db, paused)).toEqual([]);
    // Once the pause is over anyone takes it, one attempt more.
    const over = await oneChunk();
    const again = (await claimChunk(db, over, A, LEASE))!;
    await failChunk(db, again.id, A, 'KLK respondió HTTP 503', { final: false, retryInMs: RUN_OUT });
    expect(await claimChunk(db, over, B, LEASE)).toMatchObject({ id: again.id, attempts: 2 });
  });

  it('failChunk out of attempts: failed for good and listed with its error, until a resume gives it another chance', async () => {
    const id = await oneChunk();
    const chunk = (await claimChunk(db, id, A, LEASE))!;
    await failChunk(db, chunk.id, A, 'KLK no respondió en 120 s', { final: true, retryInMs: PAUSE });
    expect(await failedChunks(db, id)).toEqual([
      {
        id: chunk.id,
        backfillId: id,
        storeId: 'tienda_01',
        dayFrom: '2026-01-05',
        dayTo: '2026-01-08',
        state: 'failed',
        attempts: 1,
        error: 'KLK no respondió en 120 s',
      },
    ]);
    expect(await remaining(id)).toEqual([
      {
        at: 'tienda_01 2026-01-05..2026-01-08',
        state: 'failed',
        attempts: 1,
        error: 'KLK no respondió en 120 s',
        held: false,
      },
    ]);
    expect(await ledgerTotals(db, id)).toMatchObject({ total: 1, failed: 1, pending: 0, running: 0 });
    expect(await claimChunk(db, id, B, LEASE)).toBeNull();
    expect(await retryFailedChunks(db, id)).toBe(1);
    expect(await failedChunks(db, id)).toEqual([]);
    expect(await claimChunk(db, id, B, LEASE)).toMatchObject({ id: chunk.id, state: 'running', attempts: 1 });
    expect(await retryFailedChunks(db, id)).toBe(0);
  });

  it('releaseChunk gives a claimed chunk back with its attempt unspent: only its owner, only while it runs', async () => {
    const id = await oneChunk();
    const chunk = (await claimChunk(db, id, A, LEASE))!;
    await releaseChunk(db, chunk.id, B);
    expect(await remaining(id)).toEqual([
      { at: 'tienda_01 2026-01-05..2026-01-08', state: 'running', attempts: 1, error: null, held: true },
    ]);
    await releaseChunk(db, chunk.id, A);
    expect(await remaining(id)).toEqual([
      { at: 'tienda_01 2026-01-05..2026-01-08', state: 'pending', attempts: 0, error: null, held: false },
    ]);
    expect(await claimChunk(db, id, B, LEASE)).toMatchObject({ id: chunk.id, attempts: 1 });
    // A chunk pausing before a retry is not running: giving it back neither ends its pause nor returns its attempt.
    const pausing = await oneChunk();
    const failed = (await claimChunk(db, pausing, A, LEASE))!;
    await failChunk(db, failed.id, A, 'KLK respondió HTTP 503', { final: false, retryInMs: PAUSE });
    await releaseChunk(db, failed.id, A);
    expect((await remaining(pausing))[0]).toMatchObject({ state: 'pending', attempts: 1 });
    expect(await claimChunk(db, pausing, B, LEASE)).toBeNull();
  });

  it('releaseChunks hands back every chunk a stopping process runs, in any backfill, and no one else’s', async () => {
    const id = await threeChunks();
    const mine = [(await claimChunk(db, id, A, LEASE))!, (await claimChunk(db, id, A, LEASE))!];
    const theirs = (await claimChunk(db, id, B, LEASE))!;
    const elsewhere = await oneChunk();
    await claimChunk(db, elsewhere, A, LEASE);
    await releaseChunks(db, A);
    const after = await remainingChunks(db, id);
    expect(
      after
        .filter((c) => c.state === 'pending')
        .map((c) => c.id)
        .sort(),
    ).toEqual(mine.map((c) => c.id).sort());
    expect(after.filter((c) => c.state === 'pending').every((c) => c.attempts === 0)).toBe(true);
    expect(after.find((c) => c.id === theirs.id)).toMatchObject({ state: 'running', attempts: 1, held: true });
    expect(await ledgerTotals(db, id)).toMatchObject({ pending: 2, running: 1 });
    expect(await ledgerTotals(db, elsewhere)).toMatchObject({ pending: 1, running: 0 });
  });

  it('splitChunk replaces its owner’s running chunk by pending halves, the parent left out of totals and of what remains', async () => {
    const id = await oneChunk();
    const chunk = (await claimChunk(db, id, A, LEASE))!;
    const halves = [
      { dayFrom: '2026-01-05', dayTo: '2026-01-06' },
      { dayFrom: '2026-01-07', dayTo: '2026-01-08' },
    ];
    expect(await splitChunk(db, chunk, B, halves)).toBe(false);
    expect(await ledgerTotals(db, id)).toMatchObject({ total: 1, running: 1, storeDays: 4 });
    expect(await db.transaction((tx) => splitChunk(tx, chunk, A, halves))).toBe(true);
    expect(await remaining(id)).toEqual([
      { at: 'tienda_01 2026-01-05..2026-01-06', state: 'pending', attempts: 0, error: null, held: false },
      { at: 'tienda_01 2026-01-07..2026-01-08', state: 'pending', attempts: 0, error: null, held: false },
    ]);
    expect(await ledgerTotals(db, id)).toEqual({ ...ZERO_TOTALS, total: 2, pending: 2, storeDays: 4 });
    expect(await claimChunk(db, id, B, LEASE)).toMatchObject<Partial<Chunk>>({
      backfillId: id,
      storeId: 'tienda_01',
      dayFrom: '2026-01-05',
      dayTo: '2026-01-06',
    });
    // The parent is split for good: its owner can no longer conclude it.
    expect(await completeChunk(db, chunk.id, A, loaded(10))).toBe(false);
  });

  it('renewChunkLeases keeps the running chunks of its owner its own, and no one else’s', async () => {
    const id = await createBackfill(db, params, [
      { storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-06' },
      { storeId: 'tienda_02', dayFrom: '2026-01-05', dayTo: '2026-01-06' },
    ]);
    const kept = (await claimChunk(db, id, A, RUN_OUT))!;
    const lapsed = (await claimChunk(db, id, B, RUN_OUT))!;
    expect((await remainingChunks(db, id)).map((c) => c.held)).toEqual([false, false]);
    await renewChunkLeases(db, A, LEASE);
    expect((await remainingChunks(db, id)).map((c) => [c.id, c.held])).toEqual([
      [kept.id, true],
      [lapsed.id, false],
    ]);
    expect(await claimChunk(db, id, C, LEASE)).toMatchObject({ id: lapsed.id, attempts: 2 });
    expect(await claimChunk(db, id, C, LEASE)).toBeNull();
  });

  it('runStoreResults counts per store what the chunks concluded while the run went, a failed chunk failing its store', async () => {
    const id = await threeChunks();
    const before = (await claimChunk(db, id, A, LEASE))!; // tienda_02 5-6 January, concluded before the run
    await completeChunk(db, before.id, A, loaded(70));
    // The run starts after that conclusion, as in life: a clock that read one instant for both could not tell.
    for (;;) {
      const { rows } = await db.query<{ past: boolean }>(
        `SELECT clock_timestamp() > max(updated_at) AS past FROM backfill_chunks`,
      );
      if (rows[0]!.past) break;
    }
    const runId = await startRun(db, { type: 'backfill', window: null, stores: params.stores });
    const [first, second] = [(await claimChunk(db, id, A, LEASE))!, (await claimChunk(db, id, A, LEASE))!];
    await completeChunk(db, first.id, A, {
      lines: 200,
      inserted: 150,
      updated: 20,
      deleted: 1,
      duplicates: 10,
      quarantined: 5,
    });
    await failChunk(db, second.id, A, 'KLK no respondió', { final: true, retryInMs: 0 });
    const results = await runStoreResults(db, id, await runStartedAt(db, runId));
    expect(Object.keys(results)).toEqual(['tienda_01']);
    expect(results.tienda_01).toMatchObject({
      status: 'failed',
      requests: 1,
      extracted: 200,
      inserted: 150,
      updated: 20,
      unchanged: 200 - 10 - 5 - 150 - 20,
      deleted: 1,
      duplicates: 10,
      quarantined: 5,
    });
    // A later run of the same backfill counts only its own part.
    const later = await startRun(db, { type: 'backfill', window: null, stores: params.stores });
    expect(await retryFailedChunks(db, id)).toBe(1);
    const retried = (await claimChunk(db, id, A, LEASE))!;
    await completeChunk(db, retried.id, A, loaded(30));
    expect(await runStoreResults(db, id, await runStartedAt(db, later))).toEqual({
      tienda_01: expect.objectContaining({ status: 'success', requests: 1, extracted: 30, inserted: 30, unchanged: 0 }),
    });
  });

  it('finishBackfill concludes it with its summary; reopenBackfill takes an unfinished one up again, never a complete one', async () => {
    const id = await oneChunk();
    await finishBackfill(db, id, 'partial', { status: 'partial', storeDays: 4 });
    const partial = await getBackfill(db, id);
    expect(partial).toMatchObject({ status: 'partial', summary: { status: 'partial', storeDays: 4 } });
    expect(partial!.finishedAt).toBeInstanceOf(Date);
    expect(await reopenBackfill(db, id)).toBe(true);
    expect(await getBackfill(db, id)).toMatchObject({ status: 'running', summary: null, finishedAt: null });
    await finishBackfill(db, id, 'complete', { status: 'complete' });
    expect(await reopenBackfill(db, id)).toBe(false);
    expect(await cancelBackfill(db, id, { workedOn: false })).toBe(false);
    expect(await backfillStatus(db, id)).toBe('complete');
  });

  it('cancelBackfill stops one for good: ended now when nobody works on it, else left for its process to conclude', async () => {
    // Interrupted with a summary, nobody working on it: cancelled now, its summary says so.
    const idle = await oneChunk();
    await finishBackfill(db, idle, 'interrupted', { status: 'interrupted', storeDays: 4 });
    expect(await cancelBackfill(db, idle, { workedOn: false })).toBe(true);
    const cancelled = await getBackfill(db, idle);
    expect(cancelled).toMatchObject({ status: 'cancelled', summary: { status: 'cancelled', storeDays: 4 } });
    expect(cancelled!.finishedAt).toBeInstanceOf(Date);
    expect(await cancelBackfill(db, idle, { workedOn: false })).toBe(false);
    expect(await reopenBackfill(db, idle)).toBe(false);
    // Left by a dead process without a summary: cancelled now, still without one.
    const orphan = await oneChunk();
    expect(await cancelBackfill(db, orphan, { workedOn: false })).toBe(true);
    expect(await getBackfill(db, orphan)).toMatchObject({
      status: 'cancelled',
      summary: null,
      finishedAt: expect.any(Date),
    });
    // A process works on it: marked cancelled, its end and summary left to that process; nothing more is claimed.
    const busy = await threeChunks();
    const running = (await claimChunk(db, busy, A, LEASE))!;
    expect(await cancelBackfill(db, busy, { workedOn: true })).toBe(true);
    expect(await getBackfill(db, busy)).toMatchObject({ status: 'cancelled', summary: null, finishedAt: null });
    expect(await claimChunk(db, busy, B, LEASE)).toBeNull();
    // The chunk in flight still concludes (its rows are loaded).
    expect(await completeChunk(db, running.id, A, loaded(10))).toBe(true);
  });
});
