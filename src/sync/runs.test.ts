import { beforeEach, expect, it } from 'vitest';
import { createBackfill } from '../backfill/ledger.ts';
import { holdLiveness, liveness } from '../db/liveness.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { goneOwner, OTHER_HOST_OWNER } from '../../test/support/runs.ts';
import { acquireLeases } from './leases.ts';
import { activityOf, backfillActivity, effectiveStatus, etlActivity } from '../runs/status.ts';
import { closeAbandonedRuns, leaseHolder, startRun, type RunStatus } from './runs.ts';

describeEachBackend('which runs are really running', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });
  const ago = (table: string, column: string, id: number, minutes: number) =>
    db.query(`UPDATE ${table} SET ${column} = now() - $2 * interval '1 minute' WHERE id = $1`, [id, minutes]);
  const shown = async (ids: number[]) => {
    const activity = await etlActivity(db, ids);
    const { rows } = await db.query<{ id: number; status: RunStatus }>(
      `SELECT id, status FROM etl_runs WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [ids],
    );
    return rows.map((r) => effectiveStatus(r.status, activityOf(activity, r.id)));
  };

  it('an ETL run is running while it holds a live store lease or has just started; its process gone, it is interrupted', async () => {
    const me = await liveness(db);
    const run = (stores: string[]) => startRun(db, { type: 'scheduled', window: null, stores, owner: me.owner() });
    const [leased, killed, expired, starting] = [
      await run(['tienda_01']),
      await run(['tienda_02']),
      await run(['tienda_03']),
      await run([]),
    ];
    for (const id of [leased, killed, expired]) await ago('etl_runs', 'started_at', id, 30);
    await acquireLeases(db, ['tienda_01'], leaseHolder(leased, me.owner()), 60_000);
    // Killed with its leases: they expire, nobody renews them.
    await acquireLeases(db, ['tienda_03'], leaseHolder(expired, me.owner()), 60_000);
    await db.query(`UPDATE store_leases SET expires_at = now() - interval '1 second' WHERE store_id = 'tienda_03'`);
    expect(await shown([leased, killed, expired, starting])).toEqual([
      'running',
      'interrupted',
      'interrupted',
      'running',
    ]);
    // A finished run keeps its status whatever the leases say.
    await db.query(`UPDATE etl_runs SET status = 'success' WHERE id = $1`, [killed]);
    expect(await shown([killed])).toEqual(['success']);
  });

  it('a run whose process dies (on any host) frees its stores at once and reads interrupted, even once another run took them', async () => {
    // Its process, on another host, holds its liveness lock on a connection of its own (PGlite: its one session).
    const elsewhere = await holdLiveness(db, { host: 'otra-maquina', pid: 4242 });
    const owner = elsewhere.owner();
    const killed = await startRun(db, { type: 'scheduled', window: null, stores: ['tienda_01', 'tienda_02'], owner });
    await acquireLeases(db, ['tienda_01', 'tienda_02'], leaseHolder(killed, owner), 3_600_000);
    // A store of a live process of another host, and one of a ventas of before (no lock named): neither is taken early.
    const live = await holdLiveness(db, { host: 'otra-maquina', pid: 4343 });
    await acquireLeases(db, ['tienda_03'], leaseHolder(999, live.owner()), 3_600_000);
    await acquireLeases(db, ['tienda_04'], leaseHolder(998, OTHER_HOST_OWNER), 3_600_000);

    const me = await liveness(db);
    const next = await startRun(db, {
      type: 'scheduled',
      window: null,
      stores: ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04'],
      owner: me.owner(),
    });
    const stores = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04'];
    expect(await shown([killed])).toEqual(['running']);
    expect(await acquireLeases(db, stores, leaseHolder(next, me.owner()), 60_000)).toEqual([]);

    await elsewhere.release(); // what its death does to its session
    expect(await shown([killed])).toEqual(['interrupted']);
    expect((await acquireLeases(db, stores, leaseHolder(next, me.owner()), 60_000)).sort()).toEqual([
      'tienda_01',
      'tienda_02',
    ]);
    // Its leases now belong to the next run; its own record still reads interrupted, though it began moments ago.
    expect(await shown([killed, next])).toEqual(['interrupted', 'running']);
    await live.release();
  });

  it('a dead run whose stores are taken over is recorded interrupted, naming who took them; live and finished runs are left alone', async () => {
    const me = await liveness(db);
    const run = (owner: string, stores = ['tienda_01']) =>
      startRun(db, { type: 'scheduled', window: null, stores, owner });
    const [dead, finished, live, elsewhere] = [
      await run(goneOwner('otra-maquina')),
      await run(goneOwner('otra-maquina')),
      await run(me.owner()),
      await run(goneOwner('otra-maquina'), ['tienda_05']),
    ];
    await db.query(`UPDATE etl_runs SET status = 'success', finished_at = now() WHERE id = $1`, [finished]);
    await closeAbandonedRuns(db, ['tienda_01', 'tienda_02'], 99);
    const { rows } = await db.query<{ id: number; status: string; error: string | null; closed: boolean }>(
      `SELECT id, status, error, finished_at IS NOT NULL AS closed FROM etl_runs ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: dead,
        status: 'interrupted',
        error: 'su proceso terminó sin cerrarla; sus tiendas las retomó la ejecución etl-99',
        closed: true,
      },
      { id: finished, status: 'success', error: null, closed: true },
      { id: live, status: 'running', error: null, closed: false },
      // Dead too, but of stores nobody took over: its status is derived until then.
      { id: elsewhere, status: 'running', error: null, closed: false },
    ]);
  });

  it('a backfill is running while a chunk is under a live lease or it has just been created; a SIGKILLed one is interrupted', async () => {
    const params = {
      from: '2026-01-01',
      to: '2026-01-02',
      stores: ['tienda_01'],
      mirror: false,
      concurrency: 1,
      before: {},
    };
    const chunk = [{ storeId: 'tienda_01', dayFrom: '2026-01-01', dayTo: '2026-01-02' }];
    const create = () => createBackfill(db, params, chunk);
    const [working, before, expired, killed, fresh] = [
      await create(),
      await create(),
      await create(),
      await create(),
      await create(),
    ];
    const owners = [(await liveness(db)).owner(), OTHER_HOST_OWNER, OTHER_HOST_OWNER, goneOwner('otra-maquina')];
    for (const [i, id] of [working, before, expired, killed].entries()) {
      await ago('backfills', 'created_at', id, 30);
      await db.query(
        `UPDATE backfill_chunks SET state = 'running', lease_owner = $2, lease_until = now() + interval '1 minute', updated_at = now() - interval '30 minutes'
         WHERE backfill_id = $1`,
        [id, owners[i]],
      );
    }
    // A process of before (it names no lock) counts until its lease runs out; one whose lock is gone, at once.
    await db.query(`UPDATE backfill_chunks SET lease_until = now() - interval '1 second' WHERE backfill_id = $1`, [
      expired,
    ]);
    const ids = [working, before, expired, killed, fresh];
    const activity = await backfillActivity(db, ids);
    expect(ids.map((id) => effectiveStatus('running', activityOf(activity, id)))).toEqual([
      'running',
      'running',
      'interrupted',
      'interrupted',
      'running',
    ]);
  });
});
