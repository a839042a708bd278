import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { generateDay, startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, folderSnapshot, runCli, type CliPlace } from '../../test/support/cli.ts';
import { tableDays, truth } from '../../test/support/truth.ts';

const t01 = DEFAULT_STORES.find((s) => s.id === 'tienda_01')!;

describeEachCliBackend('ventas etl', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, scale: 0.003 });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    place = await backend.place();
    Object.assign(sim.options, { failRate: 0, latencyMs: [0, 0] });
    return () => place.cleanup();
  });
  const etl = (args: string[], env: Record<string, string> = {}) =>
    runCli(['etl', '--klk-url', sim.url, ...args], { cwd: place.cwd, env: { ...place.env, ...env } });

  it("runs the seed's FASE 1 command verbatim: every store and day equals KLK, and again changes nothing", async () => {
    const fase1 = [
      '--fecha-desde',
      '2026-01-10 00:00',
      '--fecha-hasta',
      '2026-01-25 23:59',
      '--chunk-days',
      '2',
      '--todas',
    ];
    const first = await etl(fase1);
    expect(first.stderr).not.toContain('error');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Tiendas:        19 ok, 0 con error, 0 omitidas');
    expect(first.stdout).toContain('Peticiones:     152');
    const again = await etl([...fase1, '--format', 'json']);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect([summary.status, summary.inserted, summary.updated]).toEqual(['success', 0, 0]);
    expect(summary.unchanged).toBeGreaterThan(0);
    const db = await place.open();
    try {
      for (const store of DEFAULT_STORES) {
        expect(await tableDays(db, store.id, '2026-01-10', '2026-01-25')).toEqual(
          truth(sim.options, store, '2026-01-10', '2026-01-25'),
        );
      }
      // The run history keeps the command as typed, quotes included: it runs again as it is.
      const { rows } = await db.query<{ command: string }>(`SELECT command FROM etl_runs ORDER BY id LIMIT 1`);
      expect(rows[0]!.command).toMatch(
        /^ventas etl --klk-url http:\/\/127\.0\.0\.1:\d+ --fecha-desde '2026-01-10 00:00' --fecha-hasta '2026-01-25 23:59' --chunk-days 2 --todas$/,
      );
    } finally {
      await db.close();
    }
    const logs = readdirSync(join(place.cwd, 'logs'));
    expect(logs.some((f) => /^ventas_postgres_\d{8}\.log$/.test(f))).toBe(true);
  });

  it('recovery mode loads the whole day before --now', async () => {
    const r = await etl(['--recovery-mode', '--now', '2026-01-12 03:10', '--tiendas', 'tienda_01', '--format', 'json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect([summary.type, summary.from, summary.to]).toEqual([
      'recovery',
      '2026-01-11 00:00:00',
      '2026-01-11 23:59:59',
    ]);
    expect(summary.inserted).toBe(truth(sim.options, t01, '2026-01-11', '2026-01-11')[0]!.lines);
  });

  it('incremental mode re-fetches a store with no rows in the last six opening hours whole', async () => {
    // At 22:30 the last 90 minutes are after closing time; the gap check finds 16:00-20:59 empty and fetches it.
    const r = await etl(['--tiendas', 'tienda_01', '--now', '2026-01-12 22:30', '--format', 'json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.type).toBe('scheduled');
    const expected = generateDay(sim.options, t01.sucursal, '2026-01-12', {
      horaDesde: '16:00:00',
      horaHasta: '22:30:00',
      almacen: t01.almacen,
    }).length;
    expect(expected).toBeGreaterThan(0);
    expect(summary.inserted).toBe(expected);
    const without = await etl([
      '--tiendas',
      'tienda_02',
      '--now',
      '2026-01-12 22:30',
      '--no-gap-recovery',
      '--format',
      'json',
    ]);
    expect(JSON.parse(without.stdout).extracted).toBe(0);
  });

  it('a KLK that always fails: exit 1, the store reported failed with the command that resumes it, the token never logged', async () => {
    sim.options.failRate = 1;
    const token = 'secreto-klk-123';
    // Two tries per request instead of four: the same failure, half the backoff to wait out.
    const config = join(place.cwd, 'config.json');
    writeFileSync(config, JSON.stringify({ klk: { attempts: 2 } }));
    const r = await etl(
      ['--tiendas', 'tienda_01', 'tienda_02', '--fecha-desde', '2026-01-10 00:00', '--fecha-hasta', '2026-01-10 23:59'],
      {
        KLK_API_TOKEN: token,
        VENTAS_CONFIG: config,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('0 ok, 2 con error');
    expect(r.stdout).toContain('tienda_01 (fallida): 2026-01-10 00:00 a 2026-01-10 23:59');
    expect(r.stdout).toContain(
      'ventas etl --tiendas tienda_01 tienda_02 --fecha-desde "2026-01-10 00:00" --fecha-hasta "2026-01-10 23:59"',
    );
    expect(r.stdout).not.toMatch(/0 sales|0 ventas/);
    // The command ran in this process: its log file may still be taking the last lines a process exit would have
    // waited for.
    const logDir = join(place.cwd, 'logs');
    const log = () =>
      readdirSync(logDir)
        .map((f) => readFileSync(join(logDir, f), 'utf8'))
        .join('');
    await expect.poll(log, { timeout: 10_000 }).toContain('petición fallida');
    expect(log()).not.toContain(token);
  });

  it('never stores, logs or prints a credential carried in the KLK URL', async () => {
    const secret = 'SECRETO-en-la-url';
    const config = join(place.cwd, 'config.json');
    writeFileSync(config, JSON.stringify({ klk: { attempts: 2 } }));
    const r = await runCli(
      [
        'etl',
        '--klk-url',
        `http://127.0.0.1:1/?token=${secret}`,
        '--tiendas',
        'tienda_01',
        '--fecha-desde',
        '2026-01-10',
        '--fecha-hasta',
        '2026-01-10',
      ],
      { cwd: place.cwd, env: { ...place.env, VENTAS_CONFIG: config } },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('KLK no responde en http://127.0.0.1:1/?token=[oculto]');
    expect(r.stdout + r.stderr).not.toContain(secret);
    const db = await place.open();
    try {
      const { rows } = await db.query<{ command: string; results: string }>(
        `SELECT command, store_results::text AS results FROM etl_runs`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.command).toContain("'http://127.0.0.1:1/?token=[oculto]'");
      expect(JSON.stringify(rows)).not.toContain(secret);
    } finally {
      await db.close();
    }
    // Once the run's last line is in the log (it is written in the background), none of it holds the secret.
    const logDir = join(place.cwd, 'logs');
    const log = () =>
      readdirSync(logDir)
        .map((f) => readFileSync(join(logDir, f), 'utf8'))
        .join('');
    await expect.poll(log, { timeout: 10_000 }).toContain('fin de la ejecución');
    expect(log()).not.toContain(secret);
  });

  it('--dry-run extracts and validates but writes nothing', async () => {
    const r = await etl([
      '--tiendas',
      'tienda_01',
      '--fecha-desde',
      '2026-01-10',
      '--fecha-hasta',
      '2026-01-10',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('simulación, nada escrito');
    const db = await place.open();
    try {
      const { rows } = await db.query<{ v: number; r: number }>(
        `SELECT (SELECT count(*) FROM ventas)::int AS v, (SELECT count(*) FROM etl_runs)::int AS r`,
      );
      expect(rows[0]).toEqual({ v: 0, r: 0 });
    } finally {
      await db.close();
    }
  });

  it.each([
    [['--tiendas', 'tienda_14'], /tienda desconocida: tienda_14\. Tiendas válidas: tienda_01, tienda_02/],
    [['--fecha-desde', '2026-13-01 00:00'], /--fecha-desde inválida: "2026-13-01 00:00"/],
    [['--fecha-desde', '2026-01-12 00:00', '--fecha-hasta', '2026-01-10 00:00'], /es posterior a --fecha-hasta/],
    [['--chunk-days', '0'], /--chunk-days debe ser un entero positivo/],
    [['--fecha-hasta', '2026-01-10 00:00'], /falta --fecha-desde/],
  ])('bad input %j: exit 2, a message that says what is valid, nothing written', async (args, message) => {
    const before = await folderSnapshot(join(place.cwd, '.ventas'));
    const r = await etl(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await folderSnapshot(join(place.cwd, '.ventas'))).toEqual(before);
  });
});

it('an unreachable KLK gives exit 3 with the stores reported failed', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-cli-'));
  const config = join(cwd, 'config.json');
  writeFileSync(config, JSON.stringify({ klk: { attempts: 2 } }));
  const r = await runCli(
    [
      'etl',
      '--klk-url',
      'http://127.0.0.1:1',
      '--tiendas',
      'tienda_01',
      '--fecha-desde',
      '2026-01-10',
      '--fecha-hasta',
      '2026-01-10',
    ],
    {
      cwd,
      env: { LOG_DIR: join(cwd, 'logs'), VENTAS_CONFIG: config },
    },
  );
  expect(r.code).toBe(3);
  expect(r.stderr).toContain('KLK no responde en http://127.0.0.1:1');
  expect(r.stdout).toContain('tienda_01 (fallida)');
});

it('an unreachable database gives exit 3', async () => {
  const sim = await startSimulator({ seed: 3, scale: 0.003 });
  try {
    const r = await runCli(['etl', '--klk-url', sim.url, '--tiendas', 'tienda_01', '--fecha-desde', '2026-01-10'], {
      cwd: process.cwd(),
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/ventas' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1\/ventas/);
  } finally {
    await sim.close();
  }
});
