import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEachCliBackend, runCli, startCli } from '../../test/support/cli.ts';

/** Starts `bin/ventas` and waits for its `Tablero en URL` line. */
async function startServing(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  const child = await startCli(args, options);
  let stdout = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (text: string) => {
      stdout += text;
      const match = /^Tablero en (http:\/\/\S+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`ventas terminó (${code}) antes de servir el tablero: ${stdout}`)));
  });
  return { child, url, stdout: () => stdout };
}

describe('ventas serve: bad input', () => {
  it('refuses to bind beyond loopback without VENTAS_API_TOKEN: exit 2, no database opened', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-serve-'));
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], {
      cwd,
      env: { VENTAS_API_TOKEN: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no se sirve en 0\.0\.0\.0 sin VENTAS_API_TOKEN/);
    expect(existsSync(join(cwd, '.ventas'))).toBe(false);
  });

  it.each([
    [['--port', '70000'], /--port debe ser un entero de 0 a 65535/],
    [['--from', '2026-02-30'], /--from inválida: "2026-02-30"/],
  ])('rejects %j with exit 2', async (args, message) => {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-serve-'));
    const result = await runCli(['serve', ...args], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('ventas demo --serve', () => {
  it('recreates the situation, shows gaps and plan, then serves the dashboard with the backfill left to it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-demo-serve-'));
    const { child, url, stdout } = await startServing(['demo', '--scale', '0.002', '--serve', '0'], { cwd });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(stdout()).toContain('3. Plan de backfill');
      expect(stdout()).toContain('4. Backfill desde el tablero');
      expect(stdout()).not.toContain('Resultado verificado');
      const gaps = (await (await fetch(`${url}/api/gaps`)).json()) as {
        from: string;
        to: string;
        totals: Record<string, number>;
      };
      expect([gaps.from, gaps.to]).toEqual(['2025-10-28', '2026-01-25']);
      // The seed's 686 missing and 5 partial store-days (at this scale a partial day may have sold nothing yet).
      expect(gaps.totals.missingStoreDays! + gaps.totals.partialStoreDays!).toBe(691);
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});

describeEachCliBackend('ventas serve', (backend) => {
  it('with a token binds beyond loopback, says where, guards POSTs, and stops cleanly on SIGTERM', async () => {
    const place = await backend.place();
    try {
      const { child, url } = await startServing(['serve', '--host', '0.0.0.0', '--port', '0'], {
        cwd: place.cwd,
        env: { ...place.env, VENTAS_API_TOKEN: 'secreto-123' },
      });
      try {
        const port = /^http:\/\/0\.0\.0\.0:(\d+)$/.exec(url)![1];
        const base = `http://127.0.0.1:${port}`;
        expect(await (await fetch(`${base}/api/health`)).json()).toEqual({
          status: 'ok',
          database: backend.name,
          daemon: false,
        });
        const post = await fetch(`${base}/api/backfill`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ from: '2026-01-01', to: '2026-01-02' }),
        });
        expect(post.status).toBe(401);
        child.kill('SIGTERM');
        const [code] = await once(child, 'exit');
        expect(code).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      await place.cleanup();
    }
  });
});
