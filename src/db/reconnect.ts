import { setTimeout as delay } from 'node:timers/promises';
import { halfJitterGenerator } from 'cockatiel';
import { isDatabaseLost, UnreachableError } from '../shared/errors.ts';
import { seconds } from '../shared/format.ts';
import type { Logger } from '../shared/logger.ts';
import type { Queryable } from './types.ts';

export interface ReconnectOptions {
  /** How long one run waits in all for a lost database before giving up (Infinity: a worker waits until stopped). */
  patienceMs: number;
  /** First pause between looks; each next one doubles, up to `maxDelayMs`, and is jittered so processes spread out. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Ends any wait: false, as if patience had run out. */
  signal?: AbortSignal;
  /** Once per outage, when the first caller sees it. */
  onLost?: (error: UnreachableError) => void;
  /** Once per outage, when the database answers again. */
  onBack?: (downMs: number) => void;
}

/** Commands: a PostgreSQL restart (a few seconds) is waited out; longer, the command stops with exit 3. */
export const COMMAND_PATIENCE_MS = 10_000;
export const COMMAND_RECONNECT = { firstDelayMs: 250, maxDelayMs: 2_000 } as const;
/** Workers: wait as long as it takes, looking again between 1 and 30 s. */
export const WORKER_RECONNECT = { patienceMs: Infinity, firstDelayMs: 1_000, maxDelayMs: 30_000 } as const;

/**
 * The pause before look `attempt` (0-based): capped exponential, between half and all of it ("equal jitter", cockatiel's
 * half-jitter schedule). The wait itself is ours: it shares one outage among all callers, spends a patience across
 * outages and ends with a signal, none of which cockatiel's retry policy does.
 */
export function backoffDelay(attempt: number, firstMs: number, maxMs: number): number {
  return halfJitterGenerator(attempt, {
    generator: halfJitterGenerator,
    initialDelay: firstMs,
    maxDelay: maxMs,
    exponent: 2,
  })[0];
}

/**
 * A lost database, waited out once for all the tasks of a run: the first task that sees it starts looking for the
 * server with growing pauses; the others join that same wait instead of each hammering the server and logging it.
 * A command's patience is for the whole run: once it gave up, later losses give up at once.
 */
export class DatabaseWatch {
  private outage: Promise<boolean> | null = null;
  private spentMs = 0;
  private gaveUp: UnreachableError | null = null;

  constructor(
    private readonly db: Pick<Queryable, 'query'>,
    private readonly options: ReconnectOptions,
  ) {}

  /** The error this run gave up on (patience spent), with how long it waited; null while it has not. */
  get lost(): UnreachableError | null {
    return this.gaveUp;
  }

  /**
   * Waits for the database lost with `error` to answer again: true once it does; false once patience ran out, or
   * when `signal` (this caller's) or the watch's own signal is aborted.
   */
  back(error: UnreachableError, signal?: AbortSignal): Promise<boolean> {
    if (this.gaveUp || signal?.aborted || this.options.signal?.aborted) return Promise.resolve(false);
    this.outage ??= this.wait(error).finally(() => {
      this.outage = null;
    });
    const outage = this.outage;
    if (!signal) return outage;
    return new Promise((resolve, reject) => {
      const quit = () => resolve(false);
      signal.addEventListener('abort', quit, { once: true });
      outage.then(resolve, reject).finally(() => signal.removeEventListener('abort', quit));
    });
  }

  /**
   * Runs `fn`; when the database is lost under it, waits for it (back) and runs `fn` again. Only for work that may
   * run twice (a whole transaction, an idempotent write). Gives up with the error that ended the wait.
   */
  async retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!isDatabaseLost(error) || !(await this.back(error, signal))) throw this.gaveUp ?? error;
      }
    }
  }

  private async wait(first: UnreachableError): Promise<boolean> {
    const { patienceMs, firstDelayMs, maxDelayMs, signal } = this.options;
    const started = Date.now();
    this.options.onLost?.(first);
    let last = first;
    for (let attempt = 0; ; attempt++) {
      const left = patienceMs - this.spentMs - (Date.now() - started);
      if (left <= 0) {
        this.spentMs += Date.now() - started;
        this.gaveUp = new UnreachableError(last.message, 'database', {
          cause: last,
          detail: `${last.detail}; sin respuesta durante ${seconds(this.spentMs)}`,
        });
        return false;
      }
      try {
        await delay(Math.min(left, backoffDelay(attempt, firstDelayMs, maxDelayMs)), undefined, { signal });
        // A server that never answers a connect counts as still lost (with what it said last).
        if (!(await ping(this.db, Math.max(firstDelayMs, Math.min(left, maxDelayMs))))) continue;
        this.spentMs += Date.now() - started;
        this.options.onBack?.(Date.now() - started);
        return true;
      } catch (error) {
        if (signal?.aborted) return false;
        // Anything but "still not there" (the pool closed under us...) ends the wait: the caller reports its error.
        if (!isDatabaseLost(error)) return false;
        last = error;
      }
    }
  }
}

/** One `SELECT 1`: true once answered, false when it took over `timeoutMs`; throws what the database said. */
async function ping(db: Pick<Queryable, 'query'>, timeoutMs: number): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      db.query('SELECT 1').then(() => true),
      delay(timeoutMs, false, { signal: timeout.signal }),
    ]);
  } finally {
    timeout.abort();
  }
}

/** What a run tells its user about its database: lost (it waits up to `patienceMs`), or answering again. */
export type DatabaseEvent = { state: 'lost'; patienceMs: number; detail: string } | { state: 'back'; downMs: number };

/** A watch for one run, each outage logged once when it starts and once when it ends, and told to `onEvent`. */
export function watchDatabase(
  db: Pick<Queryable, 'query'>,
  options: {
    logger: Logger;
    patienceMs: number;
    firstDelayMs?: number;
    maxDelayMs?: number;
    signal?: AbortSignal;
    onEvent?: (event: DatabaseEvent) => void;
  },
): DatabaseWatch {
  const { logger, patienceMs, onEvent } = options;
  return new DatabaseWatch(db, {
    patienceMs,
    firstDelayMs: options.firstDelayMs ?? COMMAND_RECONNECT.firstDelayMs,
    maxDelayMs: options.maxDelayMs ?? COMMAND_RECONNECT.maxDelayMs,
    signal: options.signal,
    onLost: (error) => {
      logger.warn(
        { err: error.detail, patienceMs: Number.isFinite(patienceMs) ? patienceMs : null },
        'se perdió la conexión con la base de datos: se espera a que vuelva',
      );
      onEvent?.({ state: 'lost', patienceMs, detail: error.detail });
    },
    onBack: (downMs) => {
      logger.info({ downMs }, 'la base de datos responde de nuevo');
      onEvent?.({ state: 'back', downMs });
    },
  });
}
