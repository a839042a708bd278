import { hostname } from 'node:os';
import { beforeEach, expect, it } from 'vitest';
import { createBackfill } from '../backfill/ledger.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { deadPid } from '../../test/support/runs.ts';
import { acquireLeases, leaseHolders } from './leases.ts';
import { activityOf, backfillActivity, effectiveStatus, etlActivity } from '../runs/status.ts';
import { closeAbandonedRuns, holderIsDeadHere, leaseHolder, startRun, type RunStatus } from './runs.ts';

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
    const { rows } = await db.query<{ id: number; status: RunStatus }>(`SELECT id, status FROM etl_runs WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids]);
    return rows.map((r) => effectiveStatus(r.status, activityOf(activity, r.id)));
  };

  it('an ETL run is running while it holds a live store lease or has just started; its process gone, it is interrupted', async () => {
    const run = (stores: string[]) => startRun(db, { type: 'scheduled', window: null, stores });
    const [leased, killed, expired, starting] = [await run(['tienda_01']), await run(['tienda_02']), await run(['tienda_03']), await run([])];
    for (const id of [leased, killed, expired]) await ago('etl_runs', 'started_at', id, 30);
    await acquireLeases(db, ['tienda_01'], leaseHolder(leased), 60_000);
    // Killed with its leases: they expire, nobody renews them.
    await acquireLeases(db, ['tienda_03'], leaseHolder(expired), 60_000);
    await db.query(`UPDATE store_leases SET expires_at = now() - interval '1 second' WHERE store_id = 'tienda_03'`);
    expect(await shown([leased, killed, expired, starting])).toEqual(['running', 'interrupted', 'interrupted', 'running']);
    // A finished run keeps its status whatever the leases say.
    await db.query(`UPDATE etl_runs SET status = 'success' WHERE id = $1`, [killed]);
    expect(await shown([killed])).toEqual(['success']);
  });

  it('a run killed on this host frees its stores at once and reads interrupted, its leases still unexpired', async () => {
    const killed = await startRun(db, { type: 'scheduled', window: null, stores: ['tienda_01', 'tienda_02'] });
    // Its process (this host, a pid that has exited) held both stores for another hour.
    const holder = `etl:${killed}:${hostname()}:${deadPid()}:abcd1234`;
    await db.query(`INSERT INTO store_leases (store_id, holder, expires_at) SELECT s, $1, now() + interval '1 hour' FROM unnest($2::text[]) s`, [holder, ['tienda_01', 'tienda_02']]);
    expect(holderIsDeadHere(holder)).toBe(true);
    expect(holderIsDeadHere(leaseHolder(killed))).toBe(false); // this very process
    expect(await shown([killed])).toEqual(['interrupted']);
    // A new run takes the stores now, without waiting out the hour; a live holder's store it does not take.
    const other = leaseHolder(null);
    await acquireLeases(db, ['tienda_03'], other, 60_000);
    const next = leaseHolder(null);
    const dead = (await leaseHolders(db, ['tienda_01', 'tienda_02', 'tienda_03'])).filter(holderIsDeadHere);
    expect(dead).toEqual([holder]);
    expect((await acquireLeases(db, ['tienda_01', 'tienda_02', 'tienda_03'], next, 60_000, dead)).sort()).toEqual(['tienda_01', 'tienda_02']);
  });

  it('a dead run whose stores are taken over is recorded interrupted, naming who took them; live and finished runs are left alone', async () => {
    const run = () => startRun(db, { type: 'scheduled', window: null, stores: ['tienda_01'] });
    const [dead, finished, live] = [await run(), await run(), await run()];
    await db.query(`UPDATE etl_runs SET status = 'success', finished_at = now() WHERE id = $1`, [finished]);
    const deadHolder = (id: number) => `etl:${id}:${hostname()}:${deadPid()}:abcd1234`;
    await closeAbandonedRuns(db, [deadHolder(dead), deadHolder(finished), `etl:sin-registro:${hostname()}:${deadPid()}:abcd1234`], 99);
    const { rows } = await db.query<{ id: number; status: string; error: string | null; closed: boolean }>(
      `SELECT id, status, error, finished_at IS NOT NULL AS closed FROM etl_runs ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: dead, status: 'interrupted', error: 'su proceso terminó sin cerrarla; sus tiendas las retomó la ejecución etl-99', closed: true },
      { id: finished, status: 'success', error: null, closed: true },
      { id: live, status: 'running', error: null, closed: false },
    ]);
  });

  it('a backfill is running while a chunk is under a live lease or it has just been created; a SIGKILLed one is interrupted', async () => {
    const params = { from: '2026-01-01', to: '2026-01-02', stores: ['tienda_01'], mirror: false, concurrency: 1, before: {} };
    const chunk = [{ storeId: 'tienda_01', dayFrom: '2026-01-01', dayTo: '2026-01-02' }];
    const [working, killed, fresh] = [await createBackfill(db, params, chunk), await createBackfill(db, params, chunk), await createBackfill(db, params, chunk)];
    for (const id of [working, killed]) {
      await ago('backfills', 'created_at', id, 30);
      await db.query(
        `UPDATE backfill_chunks SET state = 'running', lease_owner = 'h:1:x', lease_until = now() + interval '1 minute', updated_at = now() - interval '30 minutes'
         WHERE backfill_id = $1`,
        [id],
      );
    }
    // The killed process's lease ran out; nobody renewed it.
    await db.query(`UPDATE backfill_chunks SET lease_until = now() - interval '1 second' WHERE backfill_id = $1`, [killed]);
    const activity = await backfillActivity(db, [working, killed, fresh]);
    expect([working, killed, fresh].map((id) => effectiveStatus('running', activityOf(activity, id)))).toEqual(['running', 'interrupted', 'running']);
  });
});
