import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachCliBackend, runInPlace, type CliPlace } from '../../test/support/cli.ts';
import { seedRuns, type SeededRuns } from '../../test/support/runs.ts';

describeEachCliBackend('ventas runs', (backend) => {
  let place: CliPlace;
  let seeded: SeededRuns;
  const runs = (...args: string[]) => runInPlace(place, ['runs', ...args]);

  beforeAll(async () => {
    place = await backend.place();
  });
  afterAll(() => place?.cleanup());
  beforeEach(async () => {
    const db = await place.open();
    try {
      await db.query(`TRUNCATE backfills, backfill_chunks, etl_runs, store_leases RESTART IDENTITY`);
      seeded = await seedRuns(db);
    } finally {
      await db.close();
    }
  });

  it('lists ETL runs and backfills newest first in Spanish, with the commands that resume the unfinished backfills', async () => {
    const { code, stdout } = await runs();
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+Tipo\s+Estado\s+Inicio \(UTC−4\)\s+Ventana\s+Tiendas\s+Líneas\s+Duración$/);
    const time = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d';
    const row = (...cells: string[]) => new RegExp(`^${cells.join('\\s+')}$`);
    expect(lines.slice(1, 8)).toEqual([
      expect.stringMatching(
        row(`etl-${seeded.etlLive}`, 'ETL de recuperación', 'en curso', time, '2026-01-25', 'tienda_09', '0', '—'),
      ),
      expect.stringMatching(
        row(
          `etl-${seeded.etlDead}`,
          'ETL programado',
          'interrumpido',
          time,
          '2026-01-26 00:00 a 2026-01-26 10:59',
          'tienda_08',
          '0',
          '—',
        ),
      ),
      expect.stringMatching(
        row(`${seeded.dead}`, 'Backfill', 'interrumpido', time, '2026-01-09 a 2026-01-10', '4 tiendas', '900', '—'),
      ),
      expect.stringMatching(
        row(`${seeded.busy}`, 'Backfill', 'en curso', time, '2026-01-07 a 2026-01-08', 'tienda_03', '0', '—'),
      ),
      expect.stringMatching(
        row(
          `${seeded.partial}`,
          'Backfill',
          'parcial',
          time,
          '2026-01-05 a 2026-01-06',
          'tienda_01, tienda_02',
          '1.633',
          '1 min 15 s',
        ),
      ),
      expect.stringMatching(
        row(
          `${seeded.complete}`,
          'Backfill',
          'completo',
          time,
          '2026-01-01 a 2026-01-02',
          'tienda_01',
          '1.400',
          '30.0 s',
        ),
      ),
      expect.stringMatching(
        row(`etl-${seeded.etlDone}`, 'ETL manual', 'éxito', time, '2026-01-25', '19 tiendas', '45.210', '12.3 s'),
      ),
    ]);
    expect(lines.slice(8)).toEqual([
      '',
      'Para reanudar los backfills sin terminar:',
      `  npx ventas backfill --resume ${seeded.dead}`,
      `  npx ventas backfill --resume ${seeded.partial}`,
      '',
      'Para terminar lo que dejaron las ejecuciones ETL sin terminar:',
      // The ETL run whose process died: its whole window again.
      `  etl-${seeded.etlDead}: npx ventas etl --tiendas tienda_08 --fecha-desde "2026-01-26 00:00" --fecha-hasta "2026-01-26 10:59"`,
    ]);
  });

  it('--format json gives the same list with English keys; --limit keeps the newest', async () => {
    const { code, stdout } = await runs('--format', 'json', '--limit', '3');
    expect(code).toBe(0);
    const { runs: items } = JSON.parse(stdout) as { runs: Array<Record<string, unknown>> };
    expect(items.map((r) => [r.ref, r.kind, r.id, r.status, r.resumable, r.cancellable])).toEqual([
      [`etl-${seeded.etlLive}`, 'etl', seeded.etlLive, 'running', false, false],
      [`etl-${seeded.etlDead}`, 'etl', seeded.etlDead, 'interrupted', false, true],
      [`${seeded.dead}`, 'backfill', seeded.dead, 'interrupted', true, true],
    ]);
    expect(items[2]).toMatchObject({
      type: 'backfill',
      from: '2026-01-09',
      to: '2026-01-10',
      storeDays: 8,
      lines: 900,
      seconds: null,
      command: `npx ventas backfill --resume ${seeded.dead}`,
    });
    const bad = await runs('--limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit debe ser un entero positivo');
  });

  it('show ID: a backfill with its chunks, stores, failed chunks and the command that resumes it; an ETL run as JSON', async () => {
    const { code, stdout } = await runs('show', String(seeded.partial));
    expect(code).toBe(0);
    expect(stdout).toContain(
      `Backfill #${seeded.partial}: parcial\n  Ventana: 2026-01-05 a 2026-01-06 · 2 tiendas: tienda_01, tienda_02\n`,
    );
    expect(stdout).toMatch(/Duración: 1 min 15 s\n {2}Concurrencia 3 · --mirror no\n/);
    expect(stdout).toContain('  Bloques: 3 (1 hechos, 1 fallidos, 1 pendientes) · días-tienda: 2 de 4 hechos');
    expect(stdout).toContain('  Filas: 1.633 líneas recibidas, 1.633 insertadas, 0 actualizadas, 0 borradas');
    expect(stdout).toMatch(/Faltantes\s+4\s+2\n/);
    expect(stdout).toMatch(
      /Por tienda:\n\s+Tienda\s+Bloques\s+Hechos\s+Fallidos\s+Por hacer\s+Días-tienda\s+Líneas\s+Insertadas\n\s+tienda_01\s+1\s+1\s+0\s+0\s+2 de 2\s+1\.633\s+1\.633\n\s+tienda_02\s+2\s+0\s+1\s+1\s+0 de 2\s+0\s+0\n/,
    );
    expect(stdout).toContain('Bloques fallidos:\n  tienda_02 2026-01-05 (8 intentos): KLK respondió HTTP 500');
    expect(stdout.trimEnd().split('\n').slice(-2)).toEqual([
      `Para reanudarlo: npx ventas backfill --resume ${seeded.partial}`,
      `Para cancelarlo: npx ventas runs cancel ${seeded.partial}`,
    ]);

    const busy = await runs('show', String(seeded.busy));
    expect(busy.stdout).toContain(`Backfill #${seeded.busy}: en curso (lo ejecuta otra-maquina:4242)`);
    expect(busy.stdout).toContain('No se reanuda: lo está ejecutando otro proceso (otra-maquina:4242).');
    expect(busy.stdout).toContain('  Bloques: 1 (0 hechos, 0 fallidos, 0 pendientes, 1 en curso)');
    const dead = await runs('show', String(seeded.dead));
    expect(dead.stdout).toContain(`Backfill #${seeded.dead}: interrumpido\n`);
    expect(dead.stdout).toContain(
      '  Bloques: 4 (1 hechos, 0 fallidos, 2 pendientes, 1 tomados por un proceso que ya no está)',
    );

    const etl = await runs('show', `etl-${seeded.etlDone}`, '--format', 'json');
    expect(etl.code).toBe(0);
    expect(JSON.parse(etl.stdout)).toMatchObject({
      kind: 'etl',
      ref: `etl-${seeded.etlDone}`,
      type: 'manual',
      status: 'success',
      seconds: 12.3,
      lines: 45_210,
      command: 'ventas etl --todas --fecha-desde 2026-01-25',
      perStore: [{ store: 'tienda_01', status: 'success', requests: 1, lines: 2_400 }],
      cancellable: false,
    });
  });

  it('show and cancel refuse an unknown run and a malformed id (exit 2)', async () => {
    for (const sub of ['show', 'cancel']) {
      const unknown = await runs(sub, '999');
      expect([unknown.code, unknown.stderr]).toEqual([2, 'error: no existe el backfill #999']);
      const unknownEtl = await runs(sub, 'etl-999');
      expect([unknownEtl.code, unknownEtl.stderr]).toEqual([2, 'error: no existe la ejecución etl-999']);
      const malformed = await runs(sub, 'b7');
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('identificador de ejecución inválido: "b7"');
    }
  });

  it('cancel: an interrupted backfill ends at once, one a live process runs is left for it to stop, a dead ETL run is closed', async () => {
    const dead = await runs('cancel', String(seeded.dead));
    expect([dead.code, dead.stdout]).toEqual([
      0,
      `Backfill #${seeded.dead} cancelado: los 6 días-tienda sin hacer no se ejecutarán.`,
    ]);
    const busy = await runs('cancel', String(seeded.busy), '--format', 'json');
    expect([busy.code, JSON.parse(busy.stdout)]).toEqual([0, { runId: seeded.busy, status: 'cancelled' }]);
    const etl = await runs('cancel', `etl-${seeded.etlDead}`);
    expect([etl.code, etl.stdout]).toEqual([
      0,
      `Ejecución etl-${seeded.etlDead} cancelada (su proceso ya no existía).`,
    ]);

    const db = await place.open();
    try {
      const { rows } = await db.query<{ id: number; status: string; finished: boolean }>(
        `SELECT id, status, finished_at IS NOT NULL AS finished FROM backfills WHERE id = ANY($1::bigint[]) ORDER BY id`,
        [[seeded.busy, seeded.dead]],
      );
      expect(rows).toEqual([
        { id: seeded.busy, status: 'cancelled', finished: false },
        { id: seeded.dead, status: 'cancelled', finished: true },
      ]);
      const { rows: etlRows } = await db.query(`SELECT status FROM etl_runs WHERE id = $1`, [seeded.etlDead]);
      expect(etlRows).toEqual([{ status: 'cancelled' }]);
    } finally {
      await db.close();
    }
    const listed = await runs('--format', 'json');
    const statusOf = (ref: string) =>
      (JSON.parse(listed.stdout).runs as Array<{ ref: string; status: string }>).find((r) => r.ref === ref)!.status;
    expect([statusOf(String(seeded.dead)), statusOf(String(seeded.busy)), statusOf(`etl-${seeded.etlDead}`)]).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });

  it('cancel refuses a finished run, a cancelled one and an ETL run still at work, saying why (exit 2, nothing written)', async () => {
    const refusals: Array<[string, string]> = [
      [String(seeded.complete), `error: el backfill #${seeded.complete} no se puede cancelar: ya terminó (completo)`],
      [
        `etl-${seeded.etlDone}`,
        `error: la ejecución etl-${seeded.etlDone} no se puede cancelar: ya terminó (estado: éxito)`,
      ],
      [
        `etl-${seeded.etlLive}`,
        `error: la ejecución etl-${seeded.etlLive} no se puede cancelar: sigue en curso (sus tiendas están bajo arriendo): deténgala en su proceso con Ctrl-C o SIGTERM`,
      ],
    ];
    for (const [id, message] of refusals) {
      const result = await runs('cancel', id);
      expect([result.code, result.stderr]).toEqual([2, message]);
    }
    expect((await runs('cancel', String(seeded.partial))).code).toBe(0);
    const again = await runs('cancel', String(seeded.partial));
    expect([again.code, again.stderr]).toEqual([
      2,
      `error: el backfill #${seeded.partial} no se puede cancelar: ya terminó (cancelado)`,
    ]);
    const db = await place.open();
    try {
      const { rows } = await db.query(`SELECT status FROM backfills WHERE id = $1`, [seeded.complete]);
      expect(rows).toEqual([{ status: 'complete' }]);
      expect((await db.query(`SELECT status FROM etl_runs WHERE id = $1`, [seeded.etlLive])).rows).toEqual([
        { status: 'running' },
      ]);
    } finally {
      await db.close();
    }
  });
});
