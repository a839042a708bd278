import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../../test/support/cli.ts';

const run = (...args: string[]) => runInProcess(args);

describe('ventas: help and commander messages in Spanish', () => {
  it.each([[[]], [['gaps']], [['db']], [['etl']]])(
    'help of %j: Spanish headings and notes, exit 0',
    async (command) => {
      const { code, stdout } = await run(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Uso: ventas/);
      expect(stdout).toContain('Opciones:');
      expect(stdout).not.toMatch(/Usage:|Options:|Commands:|\[options\]|choices:|default:/);
    },
  );

  it('lists the commands under "Comandos:"', async () => {
    const { stdout } = await run('--help');
    expect(stdout).toMatch(/Comandos:\n {2}etl \[opciones\]/);
  });

  it.each([['--version'], ['-V']])('%s prints the version of the package, exit 0', async (flag) => {
    const { code, stdout } = await run(flag);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it.each([
    [
      'etl',
      '--tiendas',
      'tienda_01,tienda_99',
      '--fecha-desde',
      '2026-01-10 00:00',
      '--fecha-hasta',
      '2026-01-10 23:59',
    ],
    [
      'etl',
      '--tiendas',
      'tienda_01',
      'tienda_99',
      '--fecha-desde',
      '2026-01-10 00:00',
      '--fecha-hasta',
      '2026-01-10 23:59',
    ],
    ['gaps', '--stores', 'tienda_01 tienda_99'],
    ['plan', '--stores', 'tienda_01, tienda_99'],
  ])('takes store ids separated by commas or spaces: %j names only the unknown one, exit 2', async (...args) => {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: tienda desconocida: tienda_99\. Tiendas válidas/);
  });

  it.each([
    ['gaps', '--stores', ''],
    ['plan', '--stores', ' , '],
    ['backfill', '--stores', '', '--from', '2026-01-01', '--to', '2026-01-02'],
    ['etl', '--tiendas', '', '--fecha-desde', '2026-01-10 00:00'],
    ['quarantine', '--stores', ''],
  ])('an empty store list %j is bad input, never every store (exit 2)', async (...args) => {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: lista de tiendas vacía: nombre al menos una/);
  });

  it.each([
    ['gaps', '--from', '0100-01-01', '--to', '9999-12-31'],
    ['plan', '--from', '1000-01-01', '--to', '2025-12-31'],
    ['backfill', '--from', '2020-01-01', '--to', '2023-01-02'],
  ])('a window longer than maxWindowDays %j is bad input at once (exit 2)', async (...args) => {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: la ventana del \S+ al \S+ tiene [\d.]+ días: el máximo es 1\.096 \(maxWindowDays/);
  });

  it('gives an unknown option exit 2 and says so in Spanish', async () => {
    const { code, stderr } = await run('gaps', '--desde', '2026-01-01');
    expect(code).toBe(2);
    expect(stderr).toContain("opción desconocida '--desde'");
    expect(stderr).toContain('(use --help para ver las opciones)');
  });
});
