/**
 * The backfill the dashboard's button starts: one at a time per server, run in the background by the same
 * runBackfill the CLI uses, with its progress kept for whoever asks and pushed to whoever listens.
 */
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../catalogue/config.ts';
import { getBackfill } from '../backfill/ledger.ts';
import { runBackfill, type BackfillJob } from '../backfill/run.ts';
import type { BreakerState } from '../backfill/breaker.ts';
import type { Db } from '../db/types.ts';
import type { Logger } from '../shared/logger.ts';
import { openBackfillKlk } from '../klk/open.ts';
import { progressOf, readBackfillState, type BackfillProgress, type BackfillState } from '../runs/history.ts';
import { UnknownRunError } from '../runs/errors.ts';
import type { Window } from './params.ts';

export type RunEvent =
  | { type: 'progress'; data: BackfillProgress }
  | { type: 'breaker'; data: { state: BreakerState; message: string } }
  /** The summary as recorded, or where it stopped when it could not record one. */
  | { type: 'done'; data: BackfillState };

export type RunListener = (event: RunEvent) => void;

interface LiveRun {
  id: number;
  startedAt: number;
  progress: BackfillProgress;
  listeners: Set<RunListener>;
}

export interface RunnerDeps {
  db: Db;
  config: Config;
  klkUrl: string;
  concurrency: number;
  logger: Logger;
}

const NO_PROGRESS: BackfillProgress = {
  storeDaysDone: 0,
  storeDays: 0,
  chunks: { total: 0, done: 0, failed: 0 },
  lines: 0,
  linesPerSecond: null,
  etaSeconds: null,
};

const BREAKER_MESSAGES: Partial<Record<BreakerState, string>> = {
  open: 'KLK falla seguido: peticiones en pausa; se probará de nuevo en unos segundos',
  closed: 'KLK responde de nuevo: se reanudan las peticiones',
};

export class BackfillRunner {
  private live: LiveRun | null = null;
  private busy = false;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly deps: RunnerDeps) {}

  /** The backfill this server is running, if any. */
  current(): { id: number; progress: BackfillProgress } | null {
    return this.live && { id: this.live.id, progress: this.live.progress };
  }

  /**
   * Plans the window and starts executing it; resolves with the backfill id once its ledger is written (the work
   * goes on). A second start while one runs is refused (409): two would fetch the same store-days.
   */
  start(window: Window): Promise<number> {
    return this.launch({ from: window.from, to: window.to, stores: window.stores, concurrency: this.deps.concurrency });
  }

  /**
   * Resumes backfill `id` (what `ventas backfill --resume ID` does); resolves with its id once it is taken up.
   * UnknownRunError / RunStateError when there is no such backfill or it cannot be resumed; 409 while one runs here.
   */
  async resume(id: number): Promise<number> {
    const row = await getBackfill(this.deps.db, id);
    if (!row) throw new UnknownRunError(`no existe el backfill #${id}`);
    const byId = new Map(this.deps.config.stores.map((s) => [s.id, s]));
    const stores = row.params.stores.flatMap((s) => byId.get(s) ?? []);
    return this.launch({
      from: row.params.from,
      to: row.params.to,
      stores,
      resume: { id },
      concurrency: this.deps.concurrency,
    });
  }

  private launch(job: BackfillJob): Promise<number> {
    if (this.busy) {
      const id = this.live ? ` (#${this.live.id})` : '';
      return Promise.reject(
        new HTTPException(409, { message: `ya hay un backfill en curso${id}: espere a que termine` }),
      );
    }
    const { db, config, klkUrl, concurrency, logger } = this.deps;
    const klk = openBackfillKlk(config, { baseUrl: klkUrl, concurrency, logger });
    this.busy = true;
    return new Promise<number>((resolveStarted, rejectStarted) => {
      let started = false;
      const run = runBackfill(
        {
          db,
          config,
          klk,
          logger,
          signal: this.abort.signal,
          onStart: ({ backfillId }) => {
            started = true;
            this.live = {
              id: backfillId,
              startedAt: performance.now(),
              progress: NO_PROGRESS,
              listeners: new Set(),
            };
            resolveStarted(backfillId);
          },
          onProgress: (totals) => {
            const live = this.live;
            // Reports can overtake each other: keep the furthest.
            if (!live || totals.storeDaysDone < live.progress.storeDaysDone) return;
            live.progress = progressOf(totals, totals.lines, (performance.now() - live.startedAt) / 1000);
            this.emit({ type: 'progress', data: live.progress });
          },
          onBreaker: (state) => {
            const message = BREAKER_MESSAGES[state];
            if (message) this.emit({ type: 'breaker', data: { state, message } });
          },
        },
        job,
      );
      this.running = run
        .then(
          async () => this.finish(),
          async (error: unknown) => {
            if (!started) return rejectStarted(error);
            logger.error({ err: error }, 'el backfill del tablero se detuvo');
            await this.finish();
          },
        )
        .finally(() => {
          this.busy = false;
          this.running = null;
        });
    });
  }

  /** Listens to the live backfill `id`; null when this server is not running it. Returns the unsubscribe. */
  subscribe(id: number, listener: RunListener): (() => void) | null {
    const live = this.live;
    if (!live || live.id !== id) return null;
    live.listeners.add(listener);
    return () => live.listeners.delete(listener);
  }

  /** Stops the running backfill (its chunks go back to the ledger for `--resume`) and waits for it to record that. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private emit(event: RunEvent): void {
    for (const listener of this.live?.listeners ?? []) listener(event);
  }

  /** The final event carries what was recorded, whether the run ended well or not. */
  private async finish(): Promise<void> {
    const live = this.live;
    if (!live) return;
    const state = await readBackfillState(this.deps.db, live.id).catch(() => null);
    this.emit({ type: 'done', data: state ?? { status: 'interrupted', ...live.progress } });
    this.live = null;
  }
}
