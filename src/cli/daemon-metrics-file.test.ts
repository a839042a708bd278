import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, runInPlace, type CliPlace } from '../../test/support/cli.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
/** A stopped clock at a moment (Caracas time), as `VENTAS_CLOCK` takes it. */
const clockAt = (local: string) => ({ VENTAS_CLOCK: `${local}:00-04:00,0,0` });
/** A sample's value in Prometheus text: `name{labels} value`. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describeEachCliBackend('ventas daemon --once --metrics-file', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  let textfile: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, scale: 0.003 });
    place = await backend.place();
    textfile = join(place.cwd, 'textfile');
    mkdirSync(textfile);
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({ stores: STORES, klk: { attempts: 1 }, heal: { lookbackDays: 2, maxRequestsPerHour: 2 } }),
    );
  });
  afterAll(async () => {
    await place.cleanup();
    await sim.close();
  });
  const daemon = (local: string, ...extra: string[]) =>
    runInPlace(place, ['daemon', '--klk-url', sim.url, ...extra], {
      VENTAS_CONFIG: join(place.cwd, 'ventas.config.json'),
      ...clockAt(local),
    });

  it("writes the cycle's metrics for node_exporter, replacing the file whole on each run", async () => {
    const file = join(textfile, 'ventas.prom');
    const first = await daemon('2026-01-15T10:30', '--once', '--metrics-file', file);
    expect(first.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(sample(text, 'ventas_daemon_cycle_timestamp_seconds')).toBe(Date.parse('2026-01-15T14:30:00Z') / 1000);
    expect(sample(text, 'ventas_klk_requests_total{outcome="ok"}')).toBeGreaterThan(0);
    expect(sample(text, 'ventas_rows_loaded_total')).toBeGreaterThan(0);
    const syncedAt = Date.parse('2026-01-15T14:30:00Z') / 1000;
    const lastSyncs = (prom: string) =>
      STORES.map((s) => sample(prom, `ventas_last_sync_success_timestamp_seconds{store="${s.id}"}`));
    expect(lastSyncs(text)).toEqual([syncedAt, syncedAt]);
    expect(text).toMatch(/^# TYPE ventas_incidents_open gauge$/m);
    // A textfile collector already reports the machine's own process: none of this short run's.
    expect(text).not.toMatch(/^process_|^nodejs_/m);
    // The temporary file was renamed over the target: nothing else is left for the collector to read.
    expect(readdirSync(textfile)).toEqual(['ventas.prom']);

    const second = await daemon('2026-01-15T10:40', '--once', '--format', 'json', '--metrics-file', file);
    expect(second.code).toBe(0);
    const again = readFileSync(file, 'utf8');
    expect(sample(again, 'ventas_daemon_cycle_timestamp_seconds')).toBe(Date.parse('2026-01-15T14:40:00Z') / 1000);
    // No sync was due at 10:40: each store's last one is still there, the one of 10:30.
    expect(JSON.parse(second.stdout)).toMatchObject({ ticks: [] });
    expect(lastSyncs(again)).toEqual([syncedAt, syncedAt]);
    expect(readdirSync(textfile)).toEqual(['ventas.prom']);
  });

  it('refuses a folder that does not exist before running a cycle, and the flag without --once', async () => {
    const missing = await daemon('2026-01-15T11:00', '--once', '--metrics-file', join(place.cwd, 'nada', 'v.prom'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--metrics-file: la carpeta ${join(place.cwd, 'nada')} no existe`);
    expect(missing.stdout).toBe('');
    const long = await daemon('2026-01-15T11:00', '--metrics-file', join(textfile, 'v.prom'));
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('--metrics-file es para --once');
    expect(readdirSync(textfile)).toEqual(['ventas.prom']);
  });
});
