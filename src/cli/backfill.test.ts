import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, runCli, runInProcess, startCli, type CliPlace } from '../../test/support/cli.ts';
import { HISTORY, HISTORY_STORES, historyConfig, loadHistory } from '../../test/support/history.ts';
import { deadPort } from '../../test/support/klk.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

describeEachCliBackend('ventas backfill', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  const config = historyConfig();
  const window = ['--from', HISTORY.from, '--to', HISTORY.to, '--stores', HISTORY_STORES.join(',')];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
  });
  afterAll(() => sim.close());
  // Each test starts from the same history, loaded through the ETL once and copied.
  const placeWithHistory = backend.preparedPlaces((db) => loadHistory(db, sim, config));
  beforeEach(async () => {
    place = await placeWithHistory();
    return () => place.cleanup();
  });
  const cli = (args: string[]) => runCli(args, { cwd: place.cwd, env: { ...place.env, KLK_BASE_URL: sim.url } });

  it('killed with SIGKILL at five random moments and resumed each time, ends equal to KLK with nothing twice', async () => {
    // Slow answers and one request at a time, so there is always work left when a kill lands.
    sim.options.latencyMs = [250, 0];
    try {
      // Every kill must land on a live run with work left, or it proves nothing: each is a SIGKILL of a process
      // still running, and the next run resumes (a resume with nothing left is refused: exit 2), the last one too.
      const rounds: Array<{ signal: NodeJS.Signals | null; resumed: boolean }> = [];
      for (let round = 0; round < 5; round++) {
        const args =
          round === 0 ? ['backfill', ...window, '--concurrency', '1'] : ['backfill', '--resume', '--concurrency', '1'];
        const child = await startCli(args, { cwd: place.cwd, env: { ...place.env, KLK_BASE_URL: sim.url } });
        let output = '';
        const started = new Promise<void>((resolve) => {
          child.stdout.on('data', (data: Buffer) => {
            output += data.toString();
            if (/Backfill #\d+|Reanudando el backfill/.test(output)) resolve();
          });
        });
        const exited = new Promise<NodeJS.Signals | null>((resolve) =>
          child.on('exit', (_code, signal) => resolve(signal)),
        );
        await Promise.race([started, exited]);
        expect(child.exitCode).toBeNull();
        const delay = 150 + Math.floor(Math.random() * 500);
        await new Promise((r) => setTimeout(r, delay));
        expect(child.exitCode).toBeNull();
        child.kill('SIGKILL');
        rounds.push({ signal: await exited, resumed: output.includes('Reanudando el backfill #') });
      }
      expect(rounds).toEqual([
        { signal: 'SIGKILL', resumed: false },
        ...Array.from({ length: 4 }, () => ({ signal: 'SIGKILL', resumed: true })),
      ]);
      sim.options.latencyMs = [0, 0];
      const last = await cli(['backfill', '--resume', '--format', 'json']);
      expect(last.code).toBe(0);
      const summary = JSON.parse(last.stdout.trim().split('\n').at(-1)!);
      expect(summary).toMatchObject({
        status: 'complete',
        chunks: { failed: 0 },
        after: { missingStoreDays: 0, partialStoreDays: 0 },
      });
      const db = await place.open();
      try {
        await expectTableEqualsKlk(db, sim.options, config.stores, HISTORY);
        const { rows } = await db.query<{ state: string }>(`SELECT DISTINCT state FROM backfill_chunks`);
        expect(rows.every((r) => r.state === 'done' || r.state === 'split')).toBe(true);
      } finally {
        await db.close();
      }
      const gaps = await cli(['gaps', ...window, '--format', 'json']);
      expect(JSON.parse(gaps.stdout).totals).toMatchObject({ missingStoreDays: 0, partialStoreDays: 0 });
    } finally {
      sim.options.latencyMs = [0, 0];
    }
  });

  it('plan: json within the missing store-days, markdown like the seed, a bash script of ventas etl commands', async () => {
    const json = await cli(['plan', ...window, '--format', 'json']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.totals.overFetchRatio).toBeLessThanOrEqual(1.1);
    expect(plan.phases[0].steps[0].command).toMatch(/^npx ventas etl --tiendas /);
    const markdown = await cli(['plan', ...window, '--format', 'markdown']);
    expect(markdown.stdout).toContain('# Plan de Backfill de Ventas - KLK');
    expect(markdown.stdout).toContain('| Tienda | Dias Faltantes | Cobertura | Prioridad |');
    const bash = await cli(['plan', ...window, '--format', 'bash']);
    expect(bash.stdout).toMatch(/^#!\/usr\/bin\/env bash/);
    expect(bash.stdout).toMatch(/npx ventas etl[\s\\]+--tiendas/);
    const table = await cli(['plan', ...window]);
    expect(table.stdout).toContain('FASE 1');
  });

  it('--plan runs a saved plan within its own window and stores; a plan for unknown stores writes nothing', async () => {
    const saved = await cli(['plan', ...window, '--format', 'json']);
    const planFile = join(place.cwd, 'plan.json');
    writeFileSync(planFile, saved.stdout);
    const run = await cli(['backfill', '--plan', planFile, '--format', 'json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ status: 'complete', after: { missingStoreDays: 0, partialStoreDays: 0 } });
    // The summary's keys, in their order (as the README shows it), nothing else.
    expect(Object.keys(summary)).toEqual([
      'runId',
      'status',
      'chunks',
      'storeDays',
      'rowsInserted',
      'rowsUpdated',
      'rowsDeleted',
      'duplicatesInSource',
      'quarantined',
      'seconds',
      'before',
      'after',
    ]);
    const db = await place.open();
    try {
      const { rows } = await db.query<{ id: number; params: { from: string; to: string; stores: string[] } }>(
        `SELECT id, params FROM backfills`,
      );
      expect(rows).toHaveLength(1);
      expect(summary.runId).toBe(rows[0]!.id);
      expect(rows[0]!.params).toMatchObject({ from: HISTORY.from, to: HISTORY.to });
      await expectTableEqualsKlk(
        db,
        sim.options,
        config.stores.filter((s) => HISTORY_STORES.includes(s.id)),
        HISTORY,
      );
    } finally {
      await db.close();
    }
    const foreign = join(place.cwd, 'ajeno.json');
    writeFileSync(foreign, saved.stdout.replaceAll('tienda_07', 'tienda_77'));
    const bad = await cli(['backfill', '--plan', foreign]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tienda_77');
    const both = await cli(['backfill', '--plan', planFile, '--from', HISTORY.from]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--plan trae su propia ventana');
    const after = await place.open();
    try {
      expect((await after.query(`SELECT count(*)::int AS n FROM backfills`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await after.close();
    }
  });

  it('a KLK that never answers (a dead port): exit 3 at the first-answer limit with the resume command; the resume then finishes it', async () => {
    const port = await deadPort();
    const dead = await runInProcess(
      ['backfill', ...window],
      { cwd: place.cwd, env: { ...place.env, KLK_BASE_URL: `http://127.0.0.1:${port}` } },
      { klkFirstAnswerMs: 300 },
    );
    expect(dead.code).toBe(3);
    expect(dead.stderr).toMatch(
      /error: KLK no ha respondido a ninguna petición en 0,3 s: el backfill #1 se detiene con lo pendiente guardado\. Reanude con: npx ventas backfill --resume 1/,
    );
    const db = await place.open();
    try {
      const { rows } = await db.query(
        `SELECT (SELECT status FROM backfills WHERE id = 1) AS status, count(*) FILTER (WHERE state = 'running')::int AS running,
           count(*) FILTER (WHERE state = 'pending')::int AS pending FROM backfill_chunks`,
      );
      // Resumable: nothing shown running with nobody working on it, every chunk waiting for --resume.
      expect(rows[0]).toMatchObject({ status: 'failed', running: 0, pending: expect.any(Number) });
      expect((rows[0] as { pending: number }).pending).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
    const resumed = await runInProcess(['backfill', '--resume', '--format', 'json'], {
      cwd: place.cwd,
      env: { ...place.env, KLK_BASE_URL: sim.url },
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      runId: 1,
      status: 'complete',
      after: { missingStoreDays: 0, partialStoreDays: 0 },
    });
  });

  it('--dry-run shows the plan and writes nothing; --resume with nothing to resume is bad input', async () => {
    const dry = await cli(['backfill', ...window, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('simulación: no se escribió nada');
    const resume = await cli(['backfill', '--resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('no hay ningún backfill sin terminar');
    const bad = await cli(['backfill', '--from', '2026-01-10', '--to', '2026-01-01']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from (2026-01-10) es posterior a --to (2026-01-01)');
  });
});
