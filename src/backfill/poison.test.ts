import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient } from '../klk/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { runBackfill } from './run.ts';

describeEachBackend('runBackfill: an answer with lines PostgreSQL cannot store', (open) => {
  let db: Db;
  let sim: RunningSimulator;
  const config = parseConfig({});
  const store = config.stores.find((s) => s.id === 'tienda_01')!;
  const day = '2026-01-10';
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, scale: 0.003 });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  it('completes the chunk: the good lines loaded, the poisoned ones counted and quarantined', async () => {
    const line = (linea: number, nombre = 'PISO DE VENTA') =>
      klkLine({
        linea,
        fecha: day,
        cantidad: [{ ...(klkLine().cantidad as object[])[0], codigo_almacen: store.almacen, nombre_almacen: nombre }],
      });
    const lines = [line(1), line(2, 'PISO\u0000'), line(3), line(4, '\udc00')];
    const meta = { sucursal_codigo: store.sucursal, fecha_desde: day, fecha_hasta: day, total_registros: lines.length };
    const file = join(mkdtempSync(join(tmpdir(), 'ventas-replay-')), 'answer.json');
    writeFileSync(file, JSON.stringify({ meta, ventas: lines }));
    sim.options.replay = file;
    try {
      const outcome = await runBackfill(
        {
          db,
          config,
          klk: createKlkClient({ baseUrl: sim.url, attempts: 1, backoffMs: 5 }),
          logger: silentLogger,
          retryDelayMs: 20,
          breakerCooldownMs: 100,
        },
        { from: day, to: day, stores: [store], concurrency: 1 },
      );
      expect(outcome.summary).toMatchObject({
        status: 'complete',
        chunks: { total: 1, done: 1, failed: 0 },
        rowsInserted: 2,
        quarantined: 2,
      });
    } finally {
      sim.options.replay = null;
    }
    const { rows } = await db.query<{ state: string; error: string | null }>(
      `SELECT state, error FROM backfill_chunks`,
    );
    expect(rows).toEqual([{ state: 'done', error: null }]);
    const quarantined = await db.query<{ reason: string }>(`SELECT reason FROM quarantine ORDER BY linea`);
    expect(quarantined.rows.map((r) => r.reason)).toEqual([
      'cantidad[0].nombre_almacen contiene un carácter nulo (U+0000)',
      'cantidad[0].nombre_almacen contiene un sustituto UTF-16 suelto (U+DC00)',
    ]);
  });
});
