/**
 * PGlite's memory: the peak resident set (VmHWM) of one `ventas etl` of one BOSQUE day at scale 1 on PGlite,
 * against `ventas gaps` on the same folder, each in its own process, measured in the same run. The folder is
 * created and migrated first by a `ventas gaps` of its own (initdb is not what either figure measures).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../src/catalogue/stores.ts';
import type { RunningSimulator } from '../src/sim/index.ts';
import { progress, ROOT, runNode, type ChildResult } from './lib.ts';

/** A BOSQUE day whose sales floor is about 8,000 lines at scale 1 (a Wednesday of February). */
export const BOSQUE_DAY = '2026-02-25';
/** The load's peak may be this many times the baseline's. */
export const PGLITE_RSS_MAX_RATIO = 1.3;

export interface PgliteRssResult {
  day: string;
  store: string;
  lines: number;
  /** The first `ventas gaps`, which creates and migrates the folder. */
  createRssBytes: number | null;
  etl: { rssBytes: number | null; seconds: number };
  gaps: { rssBytes: number | null; seconds: number };
  ratio: number | null;
}

async function ventas(args: string[], cwd: string, logDir: string): Promise<ChildResult & { seconds: number }> {
  const started = performance.now();
  const child = await runNode(join(ROOT, 'bin/ventas'), args, {
    env: { DATABASE_URL: '', LOG_DIR: logDir, LOG_LEVEL: 'warn' },
    cwd,
  });
  const seconds = (performance.now() - started) / 1000;
  if (child.code !== 0)
    throw new Error(
      `ventas ${args[0]} terminó con código ${child.code}: ${child.stderr.slice(-2000)}${child.stdout.slice(-2000)}`,
    );
  return { ...child, seconds };
}

export async function benchPgliteRss(sim: RunningSimulator, store: Store, workDir: string): Promise<PgliteRssResult> {
  const cwd = join(workDir, 'pglite-rss');
  const logDir = join(workDir, 'pglite-rss-logs');
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  sim.options.replay = null;
  const gapsArgs = ['gaps', '--stores', store.id, '--from', BOSQUE_DAY, '--to', BOSQUE_DAY, '--format', 'json'];
  try {
    progress('memoria de PGlite: ventas gaps crea la base embebida');
    const create = await ventas(gapsArgs, cwd, logDir);
    progress(`memoria de PGlite: ventas etl de ${store.name} ${BOSQUE_DAY}`);
    const etl = await ventas(
      [
        'etl',
        '--tiendas',
        store.id,
        '--fecha-desde',
        `${BOSQUE_DAY} 00:00`,
        '--fecha-hasta',
        `${BOSQUE_DAY} 23:59`,
        '--klk-url',
        sim.url,
        '--format',
        'json',
      ],
      cwd,
      logDir,
    );
    const summary = JSON.parse(etl.stdout.trim().split('\n').at(-1)!) as { extracted: number; inserted: number };
    if (summary.inserted !== summary.extracted || summary.extracted === 0)
      throw new Error(`ventas etl cargó ${summary.inserted} de ${summary.extracted} líneas`);
    progress('memoria de PGlite: ventas gaps sobre la misma base (la referencia)');
    const gaps = await ventas(gapsArgs, cwd, logDir);
    return {
      day: BOSQUE_DAY,
      store: store.id,
      lines: summary.extracted,
      createRssBytes: create.maxRssBytes,
      etl: { rssBytes: etl.maxRssBytes, seconds: etl.seconds },
      gaps: { rssBytes: gaps.maxRssBytes, seconds: gaps.seconds },
      ratio: etl.maxRssBytes && gaps.maxRssBytes ? etl.maxRssBytes / gaps.maxRssBytes : null,
    };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  }
}
