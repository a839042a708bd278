import { beforeEach, describe, expect, it } from 'vitest';
import { claimChunk, createBackfill, failChunk, getBackfill } from '../backfill/ledger.ts';
import { holdLiveness } from '../db/liveness.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { goneOwner, OTHER_HOST_OWNER, seedRuns, type SeededRuns } from '../../test/support/runs.ts';
import { cancelRun } from './cancel.ts';
import { runDetail } from './detail.ts';
import { RunStateError, UnknownRunError } from './errors.ts';
import { listRuns, readBackfillState } from './history.ts';
import { parseRunRef } from './ref.ts';
import { chooseBackfillToResume } from './resume.ts';
import { effectiveStatus } from './status.ts';

describe('parseRunRef', () => {
  it('reads a backfill as a bare number and an ETL run as etl-N, and refuses anything else naming both forms', () => {
    expect(parseRunRef('12')).toEqual({ kind: 'backfill', id: 12 });
    expect(parseRunRef('etl-7')).toEqual({ kind: 'etl', id: 7 });
    for (const bad of ['0', 'etl-', '#12', '1.5', 'backfill-3', '']) {
      expect(() => parseRunRef(bad)).toThrow(/identificador de ejecución inválido: .* p\. ej\. 12, o etl-N .* etl-7/);
    }
  });
});

describe('effectiveStatus', () => {
  it('shows a running run nobody works on (nor is starting) as interrupted, and leaves every other status as stored', () => {
    const idle = { workedOn: false, starting: false, holders: [] };
    expect(effectiveStatus('running', idle)).toBe('interrupted');
    expect(effectiveStatus('running', { ...idle, workedOn: true })).toBe('running');
    expect(effectiveStatus('running', { ...idle, starting: true })).toBe('running');
    expect(effectiveStatus('partial', idle)).toBe('partial');
  });
});

describeEachBackend('runs', (open) => {
  let db: Db;
  let seeded: SeededRuns;
  beforeEach(async () => {
    db = await open();
    seeded = await seedRuns(db);
    return () => db.close();
  });

  it('lists backfills and ETL runs newest first, with the status each really has and what can be done with it', async () => {
    const runs = await listRuns(db, 50);
    expect(runs.map((r) => [r.ref, r.status, r.resumable, r.cancellable])).toEqual([
      [`etl-${seeded.etlLive}`, 'running', false, false],
      [`etl-${seeded.etlDead}`, 'interrupted', false, true],
      [String(seeded.dead), 'interrupted', true, true],
      [String(seeded.busy), 'running', false, true],
      [String(seeded.partial), 'partial', true, true],
      [String(seeded.complete), 'complete', false, false],
      [`etl-${seeded.etlDone}`, 'success', false, false],
    ]);
    const partial = runs.find((r) => r.id === seeded.partial && r.kind === 'backfill')!;
    expect(partial).toMatchObject({
      seconds: 75.4,
      lines: 1_633,
      storeDays: 4,
      errors: ['tienda_02 2026-01-05: KLK respondió HTTP 500'],
      command: `npx ventas backfill --resume ${seeded.partial}`,
    });
    expect(runs.find((r) => r.kind === 'backfill' && r.id === seeded.busy)!.command).toBeNull();
    expect((await listRuns(db, 2)).map((r) => r.ref)).toEqual([`etl-${seeded.etlLive}`, `etl-${seeded.etlDead}`]);
  });

  it('a backfill whose only chunk left waits out a retry pause is still worked on by its live process, and not once that process is gone', async () => {
    const id = await createBackfill(
      db,
      { from: '2026-02-01', to: '2026-02-01', stores: ['tienda_10'], mirror: false, concurrency: 3, before: null },
      [{ storeId: 'tienda_10', dayFrom: '2026-02-01', dayTo: '2026-02-01' }],
    );
    await db.query(`UPDATE backfills SET created_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    const pausing = async (owner: string) => {
      await db.query(
        `UPDATE backfill_chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE backfill_id = $1`,
        [id],
      );
      const chunk = (await claimChunk(db, id, owner, 60_000))!;
      await failChunk(db, chunk.id, owner, 'KLK respondió HTTP 500', { final: false, retryInMs: 60_000 });
      return (await listRuns(db, 50)).find((r) => r.kind === 'backfill' && r.id === id)!;
    };
    const elsewhere = await holdLiveness(db, { host: 'otra-maquina', pid: 4242 });
    expect(await pausing(elsewhere.owner())).toMatchObject({ status: 'running', resumable: false });
    expect(await pausing(OTHER_HOST_OWNER)).toMatchObject({ status: 'running', resumable: false });
    expect(await pausing(goneOwner())).toMatchObject({ status: 'interrupted', resumable: true });
    expect(await pausing(goneOwner('otra-maquina'))).toMatchObject({ status: 'interrupted', resumable: true });
  });

  it('a backfill just written and not yet claimed shows running, yet nobody holds it: it can be resumed (a queue with no worker)', async () => {
    const id = await createBackfill(
      db,
      { from: '2026-02-01', to: '2026-02-01', stores: ['tienda_10'], mirror: false, concurrency: 3, before: null },
      [{ storeId: 'tienda_10', dayFrom: '2026-02-01', dayTo: '2026-02-01' }],
    );
    expect((await listRuns(db, 1))[0]).toMatchObject({ id, status: 'running', resumable: true });
    expect((await chooseBackfillToResume(db, {})).id).toBe(id);
  });

  it('--resume takes the newest resumable backfill, never one another process works on, a complete or a cancelled one', async () => {
    expect((await chooseBackfillToResume(db, {})).id).toBe(seeded.dead);
    await cancelRun(db, { kind: 'backfill', id: seeded.dead });
    expect((await chooseBackfillToResume(db, {})).id).toBe(seeded.partial);
    await cancelRun(db, { kind: 'backfill', id: seeded.partial });
    await expect(chooseBackfillToResume(db, {})).rejects.toThrow('no hay ningún backfill sin terminar que reanudar');
  });

  it('--resume ID takes that one, or says why not: unknown, complete, cancelled, or worked on by a live process', async () => {
    expect((await chooseBackfillToResume(db, { id: seeded.partial })).id).toBe(seeded.partial);
    const unknown = chooseBackfillToResume(db, { id: 999 });
    await expect(unknown).rejects.toThrow(UnknownRunError);
    await expect(unknown).rejects.toThrow(
      new RegExp(
        `^no existe el backfill #999\\.\\nBackfills reanudables:\\n  #${seeded.dead}  2026-01-09 a 2026-01-10, 4 tiendas  →  npx ventas backfill --resume ${seeded.dead}\\n  #${seeded.partial}  2026-01-05 a 2026-01-06, tienda_01, tienda_02  →`,
      ),
    );
    await expect(chooseBackfillToResume(db, { id: seeded.complete })).rejects.toThrow(
      `el backfill #${seeded.complete} no se puede reanudar: ya terminó completo`,
    );
    await expect(chooseBackfillToResume(db, { id: seeded.busy })).rejects.toThrow(RunStateError);
    await expect(chooseBackfillToResume(db, { id: seeded.busy })).rejects.toThrow(
      'lo está ejecutando otro proceso (otra-maquina:4242)',
    );
    await cancelRun(db, { kind: 'backfill', id: seeded.dead });
    await expect(chooseBackfillToResume(db, { id: seeded.dead })).rejects.toThrow(
      `el backfill #${seeded.dead} no se puede reanudar: fue cancelado`,
    );
  });

  it('--resume with a window takes the newest resumable backfill of that window and stores, and refuses a mismatch naming both', async () => {
    const scope = { from: '2026-01-05', to: '2026-01-06', stores: ['tienda_02', 'tienda_01'] };
    expect((await chooseBackfillToResume(db, { scope })).id).toBe(seeded.partial);
    expect((await chooseBackfillToResume(db, { id: seeded.partial, scope })).id).toBe(seeded.partial);
    await expect(chooseBackfillToResume(db, { scope: { ...scope, stores: ['tienda_01'] } })).rejects.toThrow(
      /^ningún backfill reanudable es de 2026-01-05 a 2026-01-06, tienda_01\.\nBackfills reanudables:\n/,
    );
    await expect(chooseBackfillToResume(db, { id: seeded.dead, scope })).rejects.toThrow(
      `conflicto: el backfill #${seeded.dead} es de 2026-01-09 a 2026-01-10, 4 tiendas, pero se pidió 2026-01-05 a 2026-01-06, tienda_02, tienda_01`,
    );
    await cancelRun(db, { kind: 'backfill', id: seeded.dead });
    await cancelRun(db, { kind: 'backfill', id: seeded.partial });
    await expect(chooseBackfillToResume(db, { scope })).rejects.toThrow(/\nNo hay ningún backfill reanudable\.$/);
  });

  it('cancels a resumable backfill at once, one being worked on for its process to conclude, and a dead ETL run; never a finished run', async () => {
    const dead = await cancelRun(db, { kind: 'backfill', id: seeded.dead });
    expect(dead.stopping).toEqual([]);
    expect(await getBackfill(db, seeded.dead)).toMatchObject({
      status: 'cancelled',
      finishedAt: expect.any(Date),
      summary: null,
    });
    expect(await readBackfillState(db, seeded.dead)).toMatchObject({
      status: 'cancelled',
      storeDays: 8,
      storeDaysDone: 2,
    });

    const partial = await cancelRun(db, { kind: 'backfill', id: seeded.partial });
    expect(partial.before.status).toBe('partial');
    // Its summary stays, saying what it is now.
    expect(await readBackfillState(db, seeded.partial)).toMatchObject({
      status: 'cancelled',
      after: { missingStoreDays: 2 },
    });

    const busy = await cancelRun(db, { kind: 'backfill', id: seeded.busy });
    expect(busy.stopping).toEqual(['otra-maquina:4242']);
    expect(await getBackfill(db, seeded.busy)).toMatchObject({ status: 'cancelled', finishedAt: null });

    await cancelRun(db, { kind: 'etl', id: seeded.etlDead });
    expect(await runDetail(db, { kind: 'etl', id: seeded.etlDead })).toMatchObject({
      status: 'cancelled',
      finishedAt: expect.any(String),
    });

    const refusals: Array<[Parameters<typeof cancelRun>[1], string]> = [
      [
        { kind: 'backfill', id: seeded.complete },
        `el backfill #${seeded.complete} no se puede cancelar: ya terminó (completo)`,
      ],
      [
        { kind: 'backfill', id: seeded.dead },
        `el backfill #${seeded.dead} no se puede cancelar: ya terminó (cancelado)`,
      ],
      [
        { kind: 'etl', id: seeded.etlDone },
        `la ejecución etl-${seeded.etlDone} no se puede cancelar: ya terminó (estado: éxito)`,
      ],
      [{ kind: 'etl', id: seeded.etlLive }, `la ejecución etl-${seeded.etlLive} no se puede cancelar: sigue en curso`],
    ];
    for (const [ref, message] of refusals) {
      const attempt = cancelRun(db, ref);
      await expect(attempt).rejects.toThrow(RunStateError);
      await expect(attempt).rejects.toThrow(message);
    }
    await expect(cancelRun(db, { kind: 'etl', id: 999 })).rejects.toThrow(UnknownRunError);
  });
});
