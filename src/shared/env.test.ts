import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli, runInProcess } from '../../test/support/cli.ts';
import { now, parseClock } from './clock.ts';
import { env, parseEnv, withEnv } from './env.ts';
import { UsageError } from './errors.ts';

describe('the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('gives each variable its default, and takes an empty one for absent where that is what a shell means', () => {
    expect(parseEnv({})).toEqual({
      VENTAS_CONFIG: undefined,
      DATABASE_URL: undefined,
      KLK_BASE_URL: undefined,
      KLK_API_TOKEN: undefined,
      VENTAS_API_TOKEN: undefined,
      VENTAS_CLOCK: null,
      VENTAS_DEBUG: false,
      LOG_DIR: 'logs',
      LOG_LEVEL: 'info',
      PGUSER: undefined,
    });
    const blank = parseEnv({
      VENTAS_CONFIG: '',
      DATABASE_URL: '',
      KLK_API_TOKEN: '',
      VENTAS_API_TOKEN: '',
      VENTAS_CLOCK: ' ',
      VENTAS_DEBUG: '',
      PGUSER: '',
    });
    expect(blank).toMatchObject({
      VENTAS_CONFIG: undefined,
      DATABASE_URL: undefined,
      KLK_API_TOKEN: undefined,
      VENTAS_API_TOKEN: undefined,
      VENTAS_CLOCK: null,
      VENTAS_DEBUG: false,
      PGUSER: undefined,
    });
    // An empty KLK URL is a mistake to report (as an invalid URL), not a request for the default one.
    expect(parseEnv({ KLK_BASE_URL: '' }).KLK_BASE_URL).toBe('');
    expect(
      parseEnv({ VENTAS_CLOCK: '2026-01-26T10:00:00Z,0,0', VENTAS_DEBUG: '1', LOG_LEVEL: 'debug', PATH: '/bin' }),
    ).toMatchObject({
      VENTAS_CLOCK: { start: new Date('2026-01-26T10:00:00Z'), epochMs: 0, speed: 0 },
      VENTAS_DEBUG: true,
      LOG_LEVEL: 'debug',
    });
  });

  it('says every bad variable at once, each by its name, as bad input', () => {
    let error: unknown;
    try {
      parseEnv({ VENTAS_CLOCK: 'mañana', LOG_LEVEL: 'verbose' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message.split('\n')).toEqual([
      expect.stringMatching(
        /^VENTAS_CLOCK inválido: "mañana" \(se esperan tres valores separados por coma\)\. Se espera START,EPOCH_MS,SPEED/,
      ),
      'LOG_LEVEL inválido: "verbose" (se espera fatal, error, warn, info, debug, trace o silent)',
    ]);
  });

  it('makes every command exit 2 on a bad LOG_LEVEL, before it does anything; help and version read none of it', async () => {
    vi.stubEnv('LOG_LEVEL', 'verbose');
    const result = await runInProcess(['gaps', '--format', 'json']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: LOG_LEVEL inválido: "verbose" (se espera fatal, error, warn, info, debug, trace o silent)\n',
    });
    expect((await runInProcess(['--version'])).code).toBe(0);
  });

  it("nested in a command (the demo's day on a simulated clock), the command's own comes back after it", async () => {
    const outer = parseEnv({ LOG_LEVEL: 'warn' });
    const inner = { ...outer, VENTAS_CLOCK: parseClock('2026-01-28T06:30:00-04:00,0,0') };
    await withEnv(outer, async () => {
      await withEnv(inner, async () => expect(now().toISOString()).toBe('2026-01-28T10:30:00.000Z'));
      expect(env()).toBe(outer);
    });
    // An outer command that ended first is not brought back by the one it started.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let nested!: Promise<void>;
    await withEnv(outer, async () => {
      nested = withEnv(inner, () => held);
    });
    release();
    await nested;
    vi.stubEnv('LOG_LEVEL', 'error');
    expect(env().LOG_LEVEL).toBe('error');
  });

  it('is read once per command: what changes while it runs is not seen, the next command sees its own', async () => {
    await withEnv(parseEnv({ DATABASE_URL: 'postgres://ventas@db:5432/ventas' }), async () => {
      vi.stubEnv('DATABASE_URL', 'postgres://otro@db:5432/otra');
      expect(env().DATABASE_URL).toBe('postgres://ventas@db:5432/ventas');
    });
    expect(env().DATABASE_URL).toBe('postgres://otro@db:5432/otra');

    const cwd = mkdtempSync(join(tmpdir(), 'ventas-env-'));
    const announced = async (clock: string) =>
      // Bad input (an empty store list) ends it before any database is opened, after the announcement.
      (await runCli(['backfill', '--stores', ''], { cwd, env: { VENTAS_CLOCK: clock, LOG_DIR: join(cwd, 'logs') } }))
        .stderr;
    expect(await announced('2026-01-26T10:00:00Z,0,0')).toContain(
      'Reloj simulado (VENTAS_CLOCK): ahora 2026-01-26T10:00:00.000Z',
    );
    expect(await announced('2026-02-01T08:00:00Z,0,0')).toContain(
      'Reloj simulado (VENTAS_CLOCK): ahora 2026-02-01T08:00:00.000Z',
    );
  });
});
