import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess, VENTAS_BIN } from '../../test/support/cli.ts';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): { child: ChildProcess; exit: Promise<Exit>; output: () => string } {
  const child = spawn(process.execPath, [VENTAS_BIN, 'klk-sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, exit, output: () => stdout };
}

async function listeningUrl(proc: ReturnType<typeof run>): Promise<string> {
  let exited = false;
  void proc.exit.then(() => (exited = true));
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(proc.output());
    if (m) return m[1]!;
    if (exited) throw new Error(`klk-sim terminó sin escuchar: ${JSON.stringify(await proc.exit)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('ventas klk-sim', () => {
  it('listens on a free port, serves KLK answers with its flags, and stops cleanly on SIGTERM', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'klk-sim-')), 'config.json');
    const flor = { id: 'tienda_11', name: 'FLOR AMARILLO', sucursal: 'SUC012', almacen: 'TFAMA' };
    writeFileSync(config, JSON.stringify({ stores: [flor] }));
    const proc = run(
      ['--port', '0', '--scale', '0.01', '--seed', '4', '--now', '2026-01-12 14:00', '--list-rate', '1'].concat([
        '--config',
        config,
      ]),
    );
    try {
      const url = await listeningUrl(proc);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toMatch(/:7002$/);
      const res = await fetch(`${url}/ventas`, {
        method: 'POST',
        body: JSON.stringify({ sucursal: 'SUC012', fecha_desde: '2026-01-12', fecha_hasta: '2026-01-13' }),
      });
      const lines = (await res.json()) as Array<{ fecha: string; hora: string }>;
      expect(Array.isArray(lines)).toBe(true); // --list-rate 1
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => l.fecha === '2026-01-12' && l.hora <= '14:00:00.9999999')).toBe(true); // --now
      const other = await fetch(`${url}/ventas`, {
        method: 'POST',
        body: JSON.stringify({ sucursal: 'SUC001', fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12' }),
      });
      expect(other.status).toBe(400); // not in --config's catalogue
      const settings = await (await fetch(`${url}/__sim/faults`)).json();
      expect(settings).toMatchObject({ seed: 4, scale: 0.01, listRate: 1, now: '2026-01-12T18:00:00.000Z' });
    } finally {
      proc.child.kill('SIGTERM');
    }
    const exit = await proc.exit;
    expect(exit.code).toBe(0);
  });

  it.each([
    [['--fail-rate', '2'], '--fail-rate'],
    [['--duplicate-rate', '-0.1'], '--duplicate-rate'],
    [['--latency-ms', '100'], '--latency-ms'],
    [['--scale', 'mucho'], '--scale'],
    [['--max-lines', '0'], '--max-lines'],
    [['--now', '2026-01-12'], '--now'],
    [['--port', '70000'], '--port'],
  ])('rejects %j with exit 2 and says what is valid', async (args, flag) => {
    const { code, stdout, stderr } = await runInProcess(['klk-sim', '--port', '0', ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(flag);
    expect(stderr).toMatch(/Se espera/);
    expect(stdout).not.toContain('listening');
  });
});
