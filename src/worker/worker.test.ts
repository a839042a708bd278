import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../db/index.ts';
import type { Db } from '../db/types.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { createPostgresDatabase } from '../../test/backends.ts';
import { runCli, spawnCli } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig, loadHistory } from '../../test/support/history.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const REFUSAL =
  'el trabajo distribuido necesita PostgreSQL (DATABASE_URL); en PGlite use `ventas backfill` sin --queue';

describe('the distributed backfill on PGlite', () => {
  it('is refused with exit 2 and a clear message, before anything is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-worker-'));
    const worker = await runCli(['worker'], { cwd });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain(REFUSAL);
    const queued = await runCli(['backfill', '--queue', '--wait', '--from', HISTORY.from, '--to', HISTORY.to], { cwd });
    expect(queued.code).toBe(2);
    expect(queued.stderr).toContain(REFUSAL);
    expect(existsSync(join(cwd, '.ventas'))).toBe(false);
  });
});

/** Collects a child's output and resolves with its exit code. */
function watch(child: ChildProcess) {
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', () => undefined);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exit, stdout: () => stdout };
}

const adminUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(!adminUrl)('the distributed backfill [postgres]', () => {
  let sim: RunningSimulator;
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: Db;
  const children: ChildProcess[] = [];
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-worker-'));

  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, scale: 0.003 });
    target = await createPostgresDatabase(adminUrl!);
    db = await openDb({ databaseUrl: target.url });
    await loadHistory(db, sim, historyConfig());
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await db?.close();
    await sim?.close();
    await target?.drop();
  });

  /** The chunks being run right now, by the pid in their lease owner (`host:pid:tag`). */
  async function heldByPid(): Promise<Map<number, number[]>> {
    const { rows } = await db.query<{ id: number; owner: string }>(
      `SELECT id, lease_owner AS owner FROM backfill_chunks WHERE state = 'running' AND lease_owner IS NOT NULL`,
    );
    const held = new Map<number, number[]>();
    for (const { id, owner } of rows) {
      const pid = Number(owner.split(':')[1]);
      held.set(pid, [...(held.get(pid) ?? []), id]);
    }
    return held;
  }

  it(
    'three workers share a queued backfill under one per-KLK limit; a SIGKILLed one is taken over; the table equals KLK',
    { timeout: 90_000 },
    async () => {
      // Every request takes a while, so chunks are in hand when a worker is killed; answers over 100 lines hang past
      // the client's 1 s timeout, so multi-day chunks are halved and the halves queued as new jobs.
      Object.assign(sim.options, { latencyMs: [300, 0], maxLines: 100, hangMs: 3_000 });
      sim.resetStats();
      const configPath = join(cwd, 'config.json');
      writeFileSync(configPath, JSON.stringify({ klk: { timeoutMs: 1_000 } }));
      const env = { DATABASE_URL: target.url, KLK_BASE_URL: sim.url, LOG_DIR: join(cwd, 'logs') };
      const start = (args: string[]) => {
        const run = watch(spawnCli(args, { cwd, env }));
        children.push(run.child);
        return run;
      };

      // The per-KLK limit is 2 for all workers together; each worker alone would keep 3 chunks going.
      const waiting = start([
        'backfill',
        '--queue',
        '--wait',
        '--format',
        'json',
        '--from',
        HISTORY.from,
        '--to',
        HISTORY.to,
        '--stores',
        HISTORY_STORES.join(','),
        '--concurrency',
        '2',
        '--config',
        configPath,
      ]);
      const workers = [1, 2, 3].map(() =>
        start(['worker', '--concurrency', '3', '--lease-seconds', '5', '--config', configPath]),
      );

      // Once two workers hold chunks: one is killed outright, the other asked to stop.
      let held = new Map<number, number[]>();
      for (
        let tries = 0;
        [...held.keys()].filter((pid) => workers.some((w) => w.child.pid === pid)).length < 2;
        tries++
      ) {
        expect(tries, 'two workers never held chunks at the same time').toBeLessThan(600);
        await delay(50);
        held = await heldByPid();
      }
      const [killed, stopped, survivor] = [...workers].sort(
        (a, b) => (held.get(b.child.pid!)?.length ?? 0) - (held.get(a.child.pid!)?.length ?? 0),
      );
      killed!.child.kill('SIGKILL');
      stopped!.child.kill('SIGTERM');
      await killed!.exit;
      // What the dead worker still holds once its last transactions have settled: its leases outlive it.
      await delay(300);
      const orphaned = (await heldByPid()).get(killed!.child.pid!) ?? [];
      expect(orphaned.length).toBeGreaterThan(0);
      expect(await stopped!.exit).toBe(0);
      expect(stopped!.stdout()).toContain('Trabajador detenido');

      expect(await waiting.exit).toBe(0);
      const summary = JSON.parse(waiting.stdout().trim().split('\n').at(-1)!);
      expect(Object.keys(summary)[0]).toBe('runId');
      expect((await db.query(`SELECT id FROM backfills WHERE id = $1`, [summary.runId])).rows).toHaveLength(1);
      expect(summary).toMatchObject({
        status: 'complete',
        chunks: { failed: 0 },
        after: { missingStoreDays: 0, partialStoreDays: 0 },
      });
      expect(summary.before.missingStoreDays).toBeGreaterThan(0);

      survivor!.child.kill('SIGTERM');
      expect(await survivor!.exit).toBe(0);
      expect(survivor!.stdout()).toMatch(/bloque #\d+ tienda_\d+ .*: [\d.]+ líneas/);

      // The killed worker's chunks were claimed again by another one and finished (or halved and finished).
      const { rows: takenOver } = await db.query<{ state: string; attempts: number }>(
        `SELECT state, attempts FROM backfill_chunks WHERE id = ANY($1::bigint[])`,
        [orphaned],
      );
      expect(takenOver.length).toBe(orphaned.length);
      for (const chunk of takenOver) {
        expect(['done', 'split']).toContain(chunk.state);
        expect(chunk.attempts).toBeGreaterThanOrEqual(2);
      }
      const { rows: split } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM backfill_chunks WHERE state = 'split'`,
      );
      expect(split[0]!.n).toBeGreaterThan(0);

      expect(sim.stats().maxInFlight).toBeLessThanOrEqual(2);
      await expectTableEqualsKlk(db, sim.options, historyConfig().stores, HISTORY);
    },
  );

  it(
    "a SIGKILLed worker's chunk is taken by another within seconds, not when its two-minute lease ends",
    { timeout: 60_000 },
    async () => {
      // Holes to fill, queued with no worker running; every answer hangs until the first worker is dead.
      await db.query(`DELETE FROM store_days WHERE day IN ('2025-12-08', '2025-12-09')`);
      const env = { DATABASE_URL: target.url, KLK_BASE_URL: sim.url, LOG_DIR: join(cwd, 'logs') };
      const queued = await runCli(
        [
          'backfill',
          '--queue',
          '--format',
          'json',
          '--from',
          '2025-12-08',
          '--to',
          '2025-12-09',
          '--stores',
          HISTORY_STORES.join(','),
        ],
        { cwd, env },
      );
      expect(queued.code, queued.stderr).toBe(0);
      Object.assign(sim.options, { latencyMs: [60_000, 0], maxLines: null });
      const start = () => {
        const run = watch(spawnCli(['worker', '--concurrency', '1'], { cwd, env }));
        children.push(run.child);
        return run;
      };

      const first = start();
      let orphaned: number[] = [];
      for (let tries = 0; orphaned.length === 0; tries++) {
        expect(tries, 'the first worker never held a chunk').toBeLessThan(600);
        await delay(50);
        orphaned = (await heldByPid()).get(first.child.pid!) ?? [];
      }
      first.child.kill('SIGKILL');
      await first.exit;
      const killedAt = Date.now();
      // Its lease (the default, 120 s) is far from over.
      const { rows: leases } = await db.query<{ seconds: number }>(
        `SELECT extract(epoch FROM lease_until - now())::int AS seconds FROM backfill_chunks WHERE id = ANY($1::bigint[])`,
        [orphaned],
      );
      for (const lease of leases) expect(lease.seconds).toBeGreaterThan(100);

      Object.assign(sim.options, { latencyMs: [0, 0] });
      const second = start();
      for (let tries = 0; ; tries++) {
        expect(tries, "the dead worker's chunk was not taken over in 30 s").toBeLessThan(600);
        const { rows } = await db.query<{ state: string }>(
          `SELECT state FROM backfill_chunks WHERE id = ANY($1::bigint[])`,
          [orphaned],
        );
        if (rows.every((r) => r.state === 'done' || r.state === 'split')) break;
        await delay(50);
      }
      // The job expires 5 s after it was handed out and is looked for every 2 s; the new worker needs a moment to start.
      expect(Date.now() - killedAt).toBeLessThan(20_000);
      const { rows: attempts } = await db.query<{ attempts: number }>(
        `SELECT attempts FROM backfill_chunks WHERE id = ANY($1::bigint[])`,
        [orphaned],
      );
      for (const chunk of attempts) expect(chunk.attempts).toBe(2);
      second.child.kill('SIGTERM');
      expect(await second.exit).toBe(0);
    },
  );

  it('queues one job per chunk: queuing the same backfill again adds none', async () => {
    // Holes again (the summary forgets two days per store), then queued twice, with no worker running.
    await db.query(`DELETE FROM store_days WHERE day IN ('2025-12-01', '2025-12-02')`);
    const env = { DATABASE_URL: target.url, KLK_BASE_URL: sim.url, LOG_DIR: join(cwd, 'logs') };
    const args = [
      'backfill',
      '--queue',
      '--format',
      'json',
      '--from',
      HISTORY.from,
      '--to',
      HISTORY.to,
      '--stores',
      HISTORY_STORES.join(','),
    ];
    const first = await runCli(args, { cwd, env });
    expect(first.code).toBe(0);
    const queued = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
    expect(queued).toMatchObject({ status: 'queued', chunks: { queued: queued.chunks.total } });
    expect(queued.chunks.total).toBeGreaterThan(0);
    const again = await runCli(['backfill', '--queue', '--resume', '--format', 'json'], { cwd, env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!).backfillId).toBe(queued.backfillId);
    const { rows } = await db.query<{ chunks: number; jobs: number }>(
      `SELECT count(DISTINCT c.id)::int AS chunks, count(j.id)::int AS jobs
       FROM backfill_chunks c JOIN ventas_queue.job j ON j.singleton_key = c.id::text AND j.state = 'created'
       WHERE c.backfill_id = $1`,
      [queued.backfillId],
    );
    expect(rows[0]).toEqual({ chunks: queued.chunks.total, jobs: queued.chunks.total });
  });

  it('a queued backfill with nothing to do ends at once, instead of staying running with no worker to end it', async () => {
    const env = { DATABASE_URL: target.url, KLK_BASE_URL: sim.url, LOG_DIR: join(cwd, 'logs') };
    const args = [
      'backfill',
      '--queue',
      '--format',
      'json',
      '--from',
      HISTORY.from,
      '--to',
      '2025-11-30',
      '--stores',
      HISTORY_STORES.join(','),
    ];
    const queued = await runCli(args, { cwd, env });
    expect(queued.code, queued.stderr).toBe(0);
    const { backfillId, chunks } = JSON.parse(queued.stdout.trim().split('\n').at(-1)!);
    expect(chunks.total).toBe(0);
    const { rows } = await db.query(`SELECT status FROM backfills WHERE id = $1`, [backfillId]);
    expect(rows).toEqual([{ status: 'complete' }]);
  });
});
