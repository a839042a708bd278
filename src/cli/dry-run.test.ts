import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackfill } from '../backfill/run.ts';
import { createKlkClient } from '../klk/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { openChunkQueue } from '../worker/queue.ts';
import { describeEachCliBackend, runInProcess, type CliPlace } from '../../test/support/cli.ts';
import { fingerprint } from '../../test/support/fingerprint.ts';
import { onFirstAnswer } from '../../test/support/klk.ts';
import { HISTORY, HISTORY_STORES, historyConfig, loadHistory } from '../../test/support/history.ts';
import { goneOwner } from '../../test/support/runs.ts';

const window = ['--from', HISTORY.from, '--to', HISTORY.to, '--stores', HISTORY_STORES.join(',')];
const PLAN_FILE = 'plan.json';

/** Each command that takes --dry-run, in each of its modes and with each of its other flags, and what it must print. */
const COMBINATIONS: Array<[string, string[], RegExp]> = [
  [
    'etl, dates',
    [
      'etl',
      '--tiendas',
      'tienda_01',
      'tienda_02',
      '--fecha-desde',
      '2025-12-14 00:00',
      '--fecha-hasta',
      '2025-12-15 23:59',
    ],
    /simulación, nada escrito/,
  ],
  [
    'etl, dates and --chunk-days, json',
    [
      'etl',
      '--tiendas',
      'tienda_01',
      'tienda_11',
      '--fecha-desde',
      '2025-12-12 06:00',
      '--fecha-hasta',
      '2025-12-16 23:59',
      '--chunk-days',
      '2',
      '--format',
      'json',
    ],
    /"dryRun":true/,
  ],
  [
    'etl, incremental with the recent-gap check',
    ['etl', '--tiendas', 'tienda_01', 'tienda_07', '--now', '2025-12-16 22:30'],
    /simulación, nada escrito\) · ejecución programada/,
  ],
  [
    'etl, incremental --no-gap-recovery --minutos',
    ['etl', '--todas', '--now', '2025-12-16 12:10', '--minutos', '20', '--no-gap-recovery'],
    /simulación, nada escrito\) · ejecución programada/,
  ],
  [
    'etl, --recovery-mode',
    ['etl', '--recovery-mode', '--now', '2025-12-15 03:00', '--tiendas', 'tienda_02'],
    /simulación, nada escrito\) · ejecución recuperación/,
  ],
  [
    'etl, --recovery-mode --recovery-days --concurrency, json',
    [
      'etl',
      '--recovery-mode',
      '--recovery-days',
      '3',
      '--now',
      '2025-12-17 03:00',
      '--tiendas',
      'tienda_07',
      '--concurrency',
      '1',
      '--format',
      'json',
    ],
    /"type":"recovery"/,
  ],
  ['backfill --from --to --stores', ['backfill', ...window], /FASE \d[\s\S]*\(simulación: no se escribió nada\)/],
  [
    'backfill, every store, --mirror --concurrency',
    ['backfill', '--from', HISTORY.from, '--to', HISTORY.to, '--mirror', '--concurrency', '2'],
    /\(simulación: no se escribió nada\)/,
  ],
  ['backfill, json', ['backfill', ...window, '--format', 'json'], /"phases":\[/],
  [
    'backfill --plan FILE',
    ['backfill', '--plan', PLAN_FILE, '--mirror'],
    /FASE \d[\s\S]*\(simulación: no se escribió nada\)/,
  ],
  [
    'backfill --resume',
    ['backfill', '--resume'],
    /Backfill #1 \(2025-11-28 a 2025-12-17, 5 tiendas, interrumpido\): al reanudarlo quedan/,
  ],
  [
    'backfill --resume --mirror --concurrency, json',
    ['backfill', '--resume', '--mirror', '--concurrency', '1', '--format', 'json'],
    /^\{"runId":1,/,
  ],
];

/** The distributed backfill's modes: PostgreSQL only. */
const QUEUE_COMBINATIONS: Array<[string, string[], RegExp]> = [
  ['backfill --queue', ['backfill', '--queue', ...window], /FASE \d[\s\S]*\(simulación: no se escribió nada\)/],
  ['backfill --queue --wait, json', ['backfill', '--queue', '--wait', ...window, '--format', 'json'], /"phases":\[/],
  ['backfill --queue --plan FILE', ['backfill', '--queue', '--plan', PLAN_FILE], /\(simulación: no se escribió nada\)/],
  ['backfill --queue --resume', ['backfill', '--queue', '--resume'], /al reanudarlo quedan/],
  [
    'backfill --queue --wait --resume, json',
    ['backfill', '--queue', '--wait', '--resume', '--format', 'json'],
    /^\{"runId":1,/,
  ],
];

describeEachCliBackend('--dry-run leaves every table byte for byte as it was', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  /** The database as the last check found it: each dry run must leave it so. */
  let state: Record<string, string>;
  const config = historyConfig();

  /** The whole database's digest, read with the database closed again afterwards (PGlite has one opener). */
  async function snapshot(): Promise<Record<string, string>> {
    const db = await place.open();
    try {
      return await fingerprint(db);
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    place = await backend.place();
    const db = await place.open();
    try {
      await loadHistory(db, sim, config);
      // A backfill stopped after its first chunks, then left as a killed process leaves it: running, one chunk still
      // under the lease of its dead process, one out of attempts.
      // Stopped as a first signal stops it, once KLK has answered one request: what is in flight finishes, the rest
      // stays pending (an event, not a moment: the backfill may run faster than any progress report).
      const stop = new AbortController();
      const stopAfterFirstAnswer = onFirstAnswer(createKlkClient({ baseUrl: sim.url, backoffMs: 5 }), () =>
        stop.abort(),
      );
      await runBackfill(
        {
          db,
          config,
          klk: stopAfterFirstAnswer,
          logger: silentLogger,
          stop: stop.signal,
        },
        { ...HISTORY, stores: config.stores, concurrency: 1 },
      ).catch(() => undefined);
      await db.query(`UPDATE backfills SET status = 'running', finished_at = NULL, summary = NULL`);
      await db.query(
        `UPDATE backfill_chunks SET state = 'running', lease_owner = $1, lease_until = now() + interval '1 hour'
         WHERE id = (SELECT min(id) FROM backfill_chunks WHERE state = 'pending')`,
        [goneOwner()],
      );
      await db.query(
        `UPDATE backfill_chunks SET state = 'failed', attempts = 8, error = 'KLK respondió HTTP 500'
         WHERE id = (SELECT min(id) FROM backfill_chunks WHERE state = 'pending')`,
      );
      const { rows } = await db.query<{ done: number; pending: number }>(
        `SELECT count(*) FILTER (WHERE state = 'done')::int AS done, count(*) FILTER (WHERE state = 'pending')::int AS pending FROM backfill_chunks`,
      );
      expect(rows[0]!.done).toBeGreaterThan(0);
      expect(rows[0]!.pending).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
    if (place.env.DATABASE_URL) {
      // The job queue's schema, so its tables are part of what must not change.
      const queue = await openChunkQueue({
        databaseUrl: place.env.DATABASE_URL,
        supervise: false,
        logger: silentLogger,
      });
      await queue.stop();
    }
    const plan = await runInProcess(['plan', ...window, '--format', 'json'], place);
    expect(plan.code, plan.stderr).toBe(0);
    writeFileSync(join(place.cwd, PLAN_FILE), plan.stdout);
    state = await snapshot();
    expect(Object.keys(state)).toEqual(
      expect.arrayContaining(['public.ventas', 'public.backfills', 'public.backfill_chunks', 'public.etl_runs']),
    );
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await place?.cleanup();
  });

  const combinations = backend.name === 'postgres' ? [...COMBINATIONS, ...QUEUE_COMBINATIONS] : COMBINATIONS;
  it.each(combinations)('%s', async (_name, args, printed) => {
    const r = await runInProcess([...args, '--dry-run'], {
      cwd: place.cwd,
      env: { ...place.env, KLK_BASE_URL: sim.url },
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(printed);
    expect(await snapshot()).toEqual(state);
  });

  it('--resume --dry-run lists the chunks the resume would take up, as the ledger has them', async () => {
    const db = await place.open();
    let ledger: Array<{ store: string; from: string; to: string; state: string }>;
    try {
      ({ rows: ledger } = await db.query(
        `SELECT store_id AS store, to_char(day_from, 'YYYY-MM-DD') AS "from", to_char(day_to, 'YYYY-MM-DD') AS "to", state
         FROM backfill_chunks WHERE state IN ('pending', 'running', 'failed') ORDER BY store_id, day_from`,
      ));
    } finally {
      await db.close();
    }
    const json = await runInProcess(['backfill', '--resume', '--dry-run', '--format', 'json'], place);
    const preview = JSON.parse(json.stdout);
    expect(preview).toMatchObject({
      runId: 1,
      status: 'interrupted',
      from: HISTORY.from,
      to: HISTORY.to,
      stores: HISTORY_STORES,
    });
    expect(
      preview.remaining.map((c: { store: string; from: string; to: string; state: string }) => ({
        store: c.store,
        from: c.from,
        to: c.to,
        state: c.state,
      })),
    ).toEqual(ledger);
    expect(preview.chunks.pending + preview.chunks.running + preview.chunks.failed).toBe(ledger.length);
    const text = await runInProcess(['backfill', '--resume', '--dry-run'], place);
    expect(text.stdout).toContain(`al reanudarlo quedan ${ledger.length} de ${preview.chunks.total} bloques`);
    expect(text.stdout).toMatch(/quedó en curso en un proceso que ya no está: se retoma/);
    expect(text.stdout).toMatch(/fallido tras 8 intentos, se reintenta: KLK respondió HTTP 500/);
    expect(text.stdout).toContain('(simulación: no se escribió nada). Para reanudarlo: npx ventas backfill --resume 1');
  });

  it('--resume --dry-run of a backfill a live process is running is refused, naming it, and writes nothing', async () => {
    const db = await place.open();
    try {
      // Another machine takes up the chunk: a ventas that names no liveness lock, so its lease counts until it ends.
      await db.query(`UPDATE backfill_chunks SET lease_owner = 'otra-maquina:4242:abcd' WHERE state = 'running'`);
    } finally {
      await db.close();
    }
    const before = await snapshot();
    for (const args of [['--resume'], ['--resume', '1']]) {
      const r = await runInProcess(['backfill', ...args, '--dry-run'], place);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        args.length === 1
          ? /no hay ningún backfill sin terminar/
          : /el backfill #1 no se puede reanudar: lo está ejecutando otro proceso \(otra-maquina:4242\)/,
      );
    }
    expect(await snapshot()).toEqual(before);
  });
});
