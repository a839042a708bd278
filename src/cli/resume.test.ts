import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, runInPlace, type CliPlace } from '../../test/support/cli.ts';
import { seedRuns, type SeededRuns } from '../../test/support/runs.ts';

describeEachCliBackend('ventas backfill --resume', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  let seeded: SeededRuns;
  const backfill = (...args: string[]) => runInPlace(place, ['backfill', ...args], { KLK_BASE_URL: sim.url });
  const statuses = async () => {
    const db = await place.open();
    try {
      const { rows } = await db.query<{ id: number; status: string }>(`SELECT id, status FROM backfills ORDER BY id`);
      return Object.fromEntries(rows.map((r) => [r.id, r.status]));
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.002 });
    place = await backend.place();
  });
  afterAll(async () => {
    await sim?.close();
    await place?.cleanup();
  });
  beforeEach(async () => {
    const db = await place.open();
    try {
      await db.query(
        `TRUNCATE backfills, backfill_chunks, etl_runs, store_leases, klk_requests, ventas, store_days RESTART IDENTITY`,
      );
      seeded = await seedRuns(db);
    } finally {
      await db.close();
    }
  });

  it('--resume ID finishes that backfill, not the newest one', async () => {
    const before = await statuses();
    const { code, stdout, stderr } = await backfill('--resume', String(seeded.partial));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Reanudando el backfill #${seeded.partial}`);
    expect(stdout).toContain(`Backfill #${seeded.partial}: completo`);
    expect(await statuses()).toEqual({ ...before, [seeded.partial]: 'complete' });
  });

  it('the original --from/--to/--stores plus --resume finishes the backfill started with them', async () => {
    const before = await statuses();
    const { code, stdout, stderr } = await backfill(
      '--from',
      '2026-01-05',
      '--to',
      '2026-01-06',
      '--stores',
      'tienda_02,tienda_01',
      '--resume',
      '--format',
      'json',
    );
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      status: 'complete',
      chunks: { total: 3, done: 3, failed: 0 },
    });
    expect(await statuses()).toEqual({ ...before, [seeded.partial]: 'complete' });
  });

  it('--resume alone finishes the newest resumable backfill, taking back the chunk its dead process held', async () => {
    const { code, stdout, stderr } = await backfill('--resume');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Reanudando el backfill #${seeded.dead}`);
    expect((await statuses())[seeded.dead]).toBe('complete');
  });

  it('a window no resumable backfill has: exit 2 listing the resumable ones and the command for each, nothing written', async () => {
    const before = await statuses();
    const { code, stderr } = await backfill('--from', '2026-01-05', '--to', '2026-01-06', '--resume');
    expect(code).toBe(2);
    expect(stderr).toBe(
      [
        'error: ningún backfill reanudable es de 2026-01-05 a 2026-01-06, 19 tiendas.',
        'Backfills reanudables:',
        `  #${seeded.dead}  2026-01-09 a 2026-01-10, 4 tiendas  →  npx ventas backfill --resume ${seeded.dead}`,
        `  #${seeded.partial}  2026-01-05 a 2026-01-06, tienda_01, tienda_02  →  npx ventas backfill --resume ${seeded.partial}`,
      ].join('\n'),
    );
    expect(await statuses()).toEqual(before);
  });

  it('--resume ID with another window is a conflict naming both; a complete, busy, unknown or ETL id is refused saying why', async () => {
    const before = await statuses();
    const conflict = await backfill(
      '--resume',
      String(seeded.dead),
      '--from',
      '2026-01-05',
      '--to',
      '2026-01-06',
      '--stores',
      'tienda_01,tienda_02',
    );
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain(
      `conflicto: el backfill #${seeded.dead} es de 2026-01-09 a 2026-01-10, 4 tiendas, pero se pidió 2026-01-05 a 2026-01-06, tienda_01, tienda_02.`,
    );
    const refusals: Array<[string[], string]> = [
      [
        ['--resume', String(seeded.complete)],
        `el backfill #${seeded.complete} no se puede reanudar: ya terminó completo`,
      ],
      [
        ['--resume', String(seeded.busy)],
        `el backfill #${seeded.busy} no se puede reanudar: lo está ejecutando otro proceso (otra-maquina:4242)`,
      ],
      [['--resume', '999'], 'no existe el backfill #999.'],
      [['--resume', `etl-${seeded.etlDead}`], `--resume etl-${seeded.etlDead}: solo se reanudan backfills`],
      [['--resume', '--plan', 'plan.json'], '--resume continúa un backfill tal como se planificó: no admite --plan'],
    ];
    for (const [args, message] of refusals) {
      const result = await backfill(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(await statuses()).toEqual(before);
  });
});
