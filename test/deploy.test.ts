/**
 * deploy/: the systemd units, their environment file and the cron line say what `ventas` needs to run for real.
 * Always checked: the settings that matter and that every flag they pass exists. Where `systemd-analyze` exists (CI
 * installs it), systemd itself reads the units too.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/shared/env.ts';
import { runInProcess } from './support/cli.ts';

const DEPLOY = resolve(import.meta.dirname, '../deploy');
const BIN = '/opt/ventas/bin/ventas';
const ENV_FILE = '/etc/ventas/ventas.env';
/** `ventas daemon` and `ventas worker` give a stopping process 20 s to finish what it has in hand. */
const SHUTDOWN_GRACE_SECONDS = 20;

type Unit = Record<string, Record<string, string[]>>;

/** A unit file's settings by section; a key given twice keeps both values, in order. */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`línea sin "=": ${line}`);
    ((unit[section] ??= {})[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

const unitFile = (name: string) => readFileSync(join(DEPLOY, 'systemd', name), 'utf8');
const service = (name: string) => {
  const s = parseUnit(unitFile(name)).Service ?? {};
  return (key: string) => {
    const values = s[key] ?? [];
    expect(values, `${name}: ${key}`).toHaveLength(1);
    return values[0]!;
  };
};

/** systemd's time span in seconds: `30`, `30s`, `1min 30s`. */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const [, n, unit] of span.matchAll(/(\d+)\s*([a-z]*)/g)) total += Number(n) * units[unit!]!;
  return total;
}

/** The long flags a command's `--help` lists. */
async function flagsOf(command: string): Promise<Set<string>> {
  const help = await runInProcess([command, '--help']);
  expect(help.code).toBe(0);
  return new Set(help.stdout.match(/--[a-z][a-z-]*/g));
}

/** `BIN command --flag value …`: the command and every flag given. */
async function expectRunnable(commandLine: string, command: string): Promise<string[]> {
  const words = commandLine.split(/\s+/);
  expect(words.slice(0, 2)).toEqual([BIN, command]);
  const given = words.slice(2).filter((w) => w.startsWith('--'));
  const known = await flagsOf(command);
  for (const flag of given) expect(known, `${command} ${flag}`).toContain(flag);
  return given;
}

describe('deploy/systemd', () => {
  for (const [name, command] of [
    ['ventas-daemon.service', 'daemon'],
    ['ventas-worker.service', 'worker'],
  ] as const)
    it(`${name} runs ventas ${command} as its own user, restarts it on failure and lets it stop cleanly`, async () => {
      const get = service(name);
      await expectRunnable(get('ExecStart'), command);
      expect(get('Restart')).toBe('on-failure');
      expect(get('EnvironmentFile')).toBe(ENV_FILE);
      expect(get('User')).toBe('ventas');
      expect(get('KillSignal')).toBe('SIGTERM');
      expect(seconds(get('TimeoutStopSec'))).toBeGreaterThan(SHUTDOWN_GRACE_SECONDS);
      expect(get('NoNewPrivileges')).toBe('yes');
      expect(get('PrivateTmp')).toBe('yes');
      expect(get('ProtectSystem')).toBe('strict');
      // Under ProtectSystem=strict only these are writable: the working folder (PGlite's data) and the logs.
      expect(get('WorkingDirectory')).toBe(`/var/lib/${get('StateDirectory')}`);
      expect(envExample().LOG_DIR).toBe(`/var/log/${get('LogsDirectory')}`);
      expect(parseUnit(unitFile(name)).Install?.WantedBy).toEqual(['multi-user.target']);
    });

  it('the environment file names only variables ventas reads, with values it accepts', () => {
    const example = envExample();
    for (const name of Object.keys(example)) expect(Object.keys(envSchema.shape)).toContain(name);
    expect(Object.keys(example)).toEqual(expect.arrayContaining(['DATABASE_URL', 'KLK_BASE_URL', 'VENTAS_CONFIG']));
    // Nothing for tests only in a production file.
    expect(readFileSync(join(DEPLOY, 'systemd/ventas.env.example'), 'utf8')).not.toMatch(/VENTAS_CLOCK|VENTAS_DEBUG/);
    expect(envSchema.safeParse(example).success).toBe(true);
  });

  it('the cron line runs one cycle with the same environment, binary and flags that exist', async () => {
    const text = readFileSync(join(DEPLOY, 'cron/ventas'), 'utf8');
    const lines = text.split('\n').filter((l) => /^[*\d]/.test(l));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatch(/^\*\/15 \* \* \* \* ventas /);
    expect(line).toContain(`. ${ENV_FILE} `);
    const run = /(\/opt\/ventas\/bin\/ventas daemon [^>]*?)\s*>>/.exec(line)?.[1];
    expect(run, line).toBeDefined();
    expect(await expectRunnable(run!, 'daemon')).toEqual(['--once', '--metrics-file']);
    // The README shows the file's line as it is.
    expect(readFileSync(resolve(DEPLOY, '../README.md'), 'utf8')).toContain(`\n${line}\n`);
  });

  const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  if (systemdAnalyze)
    it('systemd-analyze verify finds nothing to say about either unit', () => {
      // The units name the installed binary; here a stub in its place, the rest of each unit as it is.
      const dir = mkdtempSync(join(tmpdir(), 'ventas-units-'));
      const stub = join(dir, 'ventas');
      writeFileSync(stub, '#!/bin/sh\n');
      chmodSync(stub, 0o755);
      const units = ['ventas-daemon.service', 'ventas-worker.service'].map((name) => {
        const path = join(dir, name);
        writeFileSync(path, unitFile(name).replaceAll(BIN, stub));
        return path;
      });
      const result = spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', ...units], {
        encoding: 'utf8',
      });
      // Unknown keys and bad values are only warnings (exit 0): any output at all fails.
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    });
});

function envExample(): Record<string, string> {
  const text = readFileSync(join(DEPLOY, 'systemd/ventas.env.example'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
