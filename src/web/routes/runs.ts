/**
 * Backfills and their history: `POST /api/backfill` starts one here; `/api/runs` lists ETL runs and backfills;
 * `/api/runs/ID` and its `/events` follow a backfill; `/api/runs/ID/cancel` and `/resume` change one. Unknown runs
 * are 404; a run whose state does not allow the change is 409, with the reason.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../../catalogue/config.ts';
import type { Db } from '../../db/types.ts';
import { cancelRun } from '../../runs/cancel.ts';
import { runDetail } from '../../runs/detail.ts';
import { RunStateError } from '../../runs/errors.ts';
import { listRuns, readBackfillState, type BackfillState } from '../../runs/history.ts';
import { formatRunRef, parseRunRef } from '../../runs/ref.ts';
import type { RunEventStreams } from '../events.ts';
import { jsonBody, only, type NodeEnv } from '../http.ts';
import { backfillBody, limitQuery, noQuery, runIdParam, valid } from '../params.ts';
import type { BackfillRunner } from '../runner.ts';

export interface RunsDeps {
  db: Db;
  config: Config;
  runner: BackfillRunner;
  streams: RunEventStreams;
  /** See runStateOf. */
  state(id: number): Promise<BackfillState>;
}

/** Backfill `id` now: its live progress when this server runs it, else as the ledger has it; 404 when unknown. */
export function runStateOf(db: Db, runner: BackfillRunner): (id: number) => Promise<BackfillState> {
  return async (id) => {
    const live = runner.current();
    if (live?.id === id) return { status: 'running', ...live.progress };
    const state = await readBackfillState(db, id);
    if (!state) throw new HTTPException(404, { message: `no existe el backfill #${id}` });
    return state;
  };
}

export function runsRoutes({ db, config, runner, streams, state: runState }: RunsDeps): Hono<NodeEnv> {
  const noParameters = valid('query', noQuery);
  return new Hono<NodeEnv>()
    .all('/backfill', only('POST'), noParameters, jsonBody, valid('json', backfillBody(config)), async (c) =>
      c.json({ runId: await runner.start(c.req.valid('json')) }, 202),
    )
    .all('/runs', only('GET'), valid('query', limitQuery), async (c) =>
      c.json({ runs: await listRuns(db, c.req.valid('query').limit) }),
    )
    .all('/runs/:id', only('GET'), noParameters, valid('param', runIdParam), async (c) =>
      c.json(await runState(c.req.valid('param').id)),
    )
    .all('/runs/:id/events', only('GET'), noParameters, valid('param', runIdParam), async (c) => {
      const { id } = c.req.valid('param');
      return streams.respond(c, id, await runState(id));
    })
    .all('/runs/:ref/cancel', only('POST'), noParameters, async (c) => {
      const ref = parseRunRef(c.req.param('ref'));
      await cancelRun(db, ref);
      return c.json({ runId: ref.kind === 'backfill' ? ref.id : formatRunRef(ref), status: 'cancelled' });
    })
    .all('/runs/:ref/resume', only('POST'), noParameters, async (c) => {
      const ref = parseRunRef(c.req.param('ref'));
      if (ref.kind === 'etl') {
        const run = await runDetail(db, ref);
        throw new RunStateError(
          `la ejecución ${run.ref} no se puede reanudar: es una ejecución del ETL; solo se reanudan backfills`,
        );
      }
      return c.json({ runId: await runner.resume(ref.id) }, 202);
    });
}
