import { beforeEach, expect, it } from 'vitest';
import { holdLiveness, liveness, type Liveness } from '../db/liveness.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { goneOwner, OTHER_HOST_OWNER } from '../../test/support/runs.ts';
import { claimChunk, claimChunkById, createBackfill, goneChunkOwners, remainingChunks } from './ledger.ts';

const params = {
  from: '2026-01-05',
  to: '2026-01-05',
  stores: ['tienda_01'],
  mirror: false,
  concurrency: 1,
  before: {},
};

/**
 * The in-process executor claims the next chunk of a backfill, a queue worker the chunk its job names: both by the
 * one rule of the ledger. Each case is one backfill of one chunk, so the executor's claim can only take that chunk.
 */
describeEachBackend('claiming a chunk', (open) => {
  let db: Db;
  let liveElsewhere: Liveness;
  beforeEach(async () => {
    db = await open();
    // A live process of another host: its lock held on a connection of its own (PGlite: the one session).
    liveElsewhere = await holdLiveness(db, { host: 'otra-maquina', pid: 4242 });
    return () => db.close();
  });

  /** One backfill whose one chunk is in `state`, held by `owner` under a lease ending in `leaseSeconds`. */
  async function chunkOf(
    state: 'pending' | 'running',
    owner: string | null,
    leaseSeconds: number | null,
  ): Promise<{ backfillId: number; chunkId: number }> {
    const backfillId = await createBackfill(db, params, [
      { storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-05' },
    ]);
    const { rows } = await db.query<{ id: number }>(
      `UPDATE backfill_chunks SET state = $2, lease_owner = $3, lease_until = now() + $4 * interval '1 second', attempts = 1
       WHERE backfill_id = $1 RETURNING id`,
      [backfillId, state, owner, leaseSeconds],
    );
    return { backfillId, chunkId: rows[0]!.id };
  }

  const cases = () =>
    [
      { name: 'pending', state: 'pending', owner: null, lease: null, claimable: true },
      {
        name: 'pending, pausing before a retry',
        state: 'pending',
        owner: OTHER_HOST_OWNER,
        lease: 600,
        claimable: false,
      },
      {
        name: 'running, its owner alive on another host',
        state: 'running',
        owner: liveElsewhere.owner(),
        lease: 600,
        claimable: false,
      },
      {
        name: 'running, its owner dead on another host',
        state: 'running',
        owner: goneOwner('otra-maquina'),
        lease: 600,
        claimable: true,
      },
      {
        name: 'running, its owner dead on this host',
        state: 'running',
        owner: goneOwner(),
        lease: 600,
        claimable: true,
      },
      {
        name: 'running, its owner naming no lock',
        state: 'running',
        owner: OTHER_HOST_OWNER,
        lease: 600,
        claimable: false,
      },
      { name: 'running, its lease run out', state: 'running', owner: OTHER_HOST_OWNER, lease: -1, claimable: true },
    ] as const;

  it('the executor and a worker take the same chunks: pending ones, and running ones whose owner is gone or lease ran out', async () => {
    const me = (await liveness(db)).owner();
    for (const c of cases()) {
      const byExecutor = await chunkOf(c.state, c.owner, c.lease);
      const byWorker = await chunkOf(c.state, c.owner, c.lease);
      // What a resume counts as held (another process runs it): exactly the running chunks nobody may take.
      const [remaining] = await remainingChunks(db, byExecutor.backfillId);
      expect(remaining!.held, c.name).toBe(c.state === 'running' && !c.claimable);
      const taken = [
        await claimChunk(db, byExecutor.backfillId, me, 60_000),
        await claimChunkById(db, byWorker.chunkId, me, 60_000),
      ];
      expect(
        taken.map((t) => (t ? { state: t.state, attempts: t.attempts } : null)),
        c.name,
      ).toEqual(
        c.claimable
          ? [
              { state: 'running', attempts: 2 },
              { state: 'running', attempts: 2 },
            ]
          : [null, null],
      );
    }
  });

  it("a chunk taken back from a dead owner is the claimer's; the dead owners of a backfill are named", async () => {
    const dead = goneOwner();
    const { backfillId, chunkId } = await chunkOf('running', dead, 600);
    expect(await goneChunkOwners(db, backfillId)).toEqual([dead]);
    const me = (await liveness(db)).owner();
    expect(await claimChunkById(db, chunkId, me, 60_000)).toMatchObject({ id: chunkId, state: 'running', attempts: 2 });
    const { rows } = await db.query(`SELECT lease_owner AS owner FROM backfill_chunks WHERE id = $1`, [chunkId]);
    expect(rows).toEqual([{ owner: me }]);
    expect(await goneChunkOwners(db, backfillId)).toEqual([]);
    // Taken by a live process, it is not taken again.
    expect(await claimChunk(db, backfillId, (await liveness(db)).owner(), 60_000)).toBeNull();
  });

  it('the owner of another host dies: its chunk is free at once, though its lease has ten minutes to run', async () => {
    const { chunkId } = await chunkOf('running', liveElsewhere.owner(), 600);
    const me = (await liveness(db)).owner();
    expect(await claimChunkById(db, chunkId, me, 60_000)).toBeNull();
    await liveElsewhere.release();
    expect(await claimChunkById(db, chunkId, me, 60_000)).toMatchObject({ id: chunkId, state: 'running' });
  });

  it('a process never takes its own chunks for gone, even while its lock is not held (reconnecting to a lost database)', async () => {
    const process = await holdLiveness(db, { host: 'esta-maquina', pid: 4343 });
    const [lane1, lane2] = [process.owner(), process.owner()];
    const { backfillId, chunkId } = await chunkOf('running', lane1, 600);
    await process.release(); // the lock went with the lost connection; the process itself lives on
    expect(await claimChunk(db, backfillId, lane2, 60_000)).toBeNull();
    expect(await claimChunkById(db, chunkId, lane2, 60_000)).toBeNull();
    // Anyone else takes it: for them that process is gone.
    expect(await claimChunkById(db, chunkId, (await liveness(db)).owner(), 60_000)).toMatchObject({
      id: chunkId,
      attempts: 2,
    });
  });
});
