import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../src/catalogue/config.ts';
import { openDb } from '../../src/db/index.ts';
import type { Db } from '../../src/db/types.ts';
import type { RunningSimulator } from '../../src/sim/index.ts';
import { createPostgresDatabase } from '../backends.ts';
import { watch, type Watched } from './child.ts';
import { runCli, spawnCli } from './cli.ts';
import { loadHistory } from './history.ts';
import { startPgProxy, type PgProxy } from './pg-proxy.ts';

/** What a crash would have printed instead of a message: Node's unhandled event, or a stack trace. */
export const CRASH = /Unhandled|uncaught|^\s+at .+:\d+:\d+\)?$/im;

/**
 * A throwaway PostgreSQL database holding the backfill history, which `ventas` reaches only through a relay the test
 * can cut (PostgreSQL lost for real, the shared server untouched), while the test reads it directly.
 */
export interface RelayedPlace {
  cwd: string;
  proxy: PgProxy;
  /** The test's own way in, straight to PostgreSQL: it sees the database while `ventas` cannot. */
  db: Db;
  /** DATABASE_URL through the relay, KLK, logs. */
  env(): Record<string, string>;
  /** `ventas` in its own process (its leases then belong to a process that is gone once it exits), through the relay. */
  start(args: string[], reconnectSeconds: number): Watched;
  /** Waits until `sql` (one boolean column `ok`) holds, asking PostgreSQL directly. */
  untilDb(sql: string, what: string): Promise<void>;
  /** `ventas runs --format json`, straight to PostgreSQL. */
  runs(): Promise<Array<{ ref: string; status: string; resumable: boolean; command: string | null }>>;
  cleanup(): Promise<void>;
}

export async function relayedPlace(adminUrl: string, sim: RunningSimulator, config: Config): Promise<RelayedPlace> {
  const target = await createPostgresDatabase(adminUrl);
  const db = await openDb({ databaseUrl: target.url });
  await loadHistory(db, sim, config);
  const proxy = await startPgProxy(target.url);
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-db-lost-'));
  const children: Watched[] = [];
  const env = () => ({ DATABASE_URL: proxy.url, KLK_BASE_URL: sim.url, LOG_DIR: join(cwd, 'logs') });
  return {
    cwd,
    proxy,
    db,
    env,
    start(args, reconnectSeconds) {
      const configPath = join(cwd, `config-${reconnectSeconds}.json`);
      writeFileSync(configPath, JSON.stringify({ database: { reconnectSeconds } }));
      const run = watch(spawnCli([...args, '--config', configPath], { cwd, env: env() }));
      children.push(run);
      return run;
    },
    async untilDb(sql, what) {
      for (let tries = 0; !(await db.query<{ ok: boolean }>(sql)).rows[0]!.ok; tries++) {
        if (tries > 1_500)
          throw new Error(
            `no ocurrió a tiempo: ${what}\n${children.map((c) => `${c.stdout()}\n${c.stderr()}`).join('\n')}`,
          );
        await delay(20);
      }
    },
    async runs() {
      const runs = await runCli(['runs', '--format', 'json'], {
        cwd,
        env: { DATABASE_URL: target.url, LOG_DIR: join(cwd, 'logs') },
      });
      if (runs.code !== 0) throw new Error(`ventas runs salió con ${runs.code}: ${runs.stderr}`);
      return JSON.parse(runs.stdout).runs;
    },
    async cleanup() {
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await proxy.close();
      await db.close();
      await target.drop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
