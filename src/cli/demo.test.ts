import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli, runInProcess } from '../../test/support/cli.ts';

it('npm start (ventas demo) tells the whole story and ends with every expected store-day verified complete', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-demo-'));
  const r = await runCli(['demo', '--scale', '0.002'], { cwd, timeoutMs: 240_000 });
  expect(r.code).toBe(0);
  const out = r.stdout;
  const order = [
    '1. Cargando con `ventas etl`',
    '2. Huecos detectados',
    '3. Plan de backfill',
    '4. Backfill',
    '5. Resultado verificado',
  ].map((s) => out.indexOf(s));
  expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
  expect(out).toContain('tienda_11  FLOR AMARILLO         88          1         87');
  expect(out).toContain('Hueco común del 2026-01-10 al 2026-01-25: 16 días faltantes en 19 de 19 tiendas');
  expect(out).toMatch(/Verificado: los 1\.633 días-tienda esperados de 19 tiendas están completos/);
  expect(out).toContain('npm start -- --scale 1');
}, 300_000);

it('demo flags are validated', async () => {
  const r = await runCli(['demo', '--scale', '0'], { cwd: tmpdir() });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--scale debe ser un número mayor que 0');
});

it('refuses a --data-dir that is neither empty nor an embedded database, and leaves it untouched', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'ventas-demo-mine-'));
  writeFileSync(join(folder, 'importante.txt'), 'no borrar');
  const r = await runInProcess(['demo', '--data-dir', folder]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('no está vacía ni es una base embebida');
  expect(readdirSync(folder)).toEqual(['importante.txt']);
});

it('refuses a dashboard port already in use before doing any work: exit 2 naming it, nothing created', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-demo-'));
    const r = await runCli(['demo', '--scale', '0.002', '--serve', String(port)], { cwd, timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`el puerto ${port} ya está en uso en 127.0.0.1`);
    expect(r.stdout).toBe('');
    expect(existsSync(join(cwd, '.ventas'))).toBe(false);
  } finally {
    busy.close();
  }
}, 150_000);
