/**
 * One store-window asked of KLK and collected into an AnswerBatch, its failure given back as a typed outcome: what
 * the ETL, the backfill (executor and worker) and `verify --reconcile` each do with a request, written once.
 */
import type { Store } from '../catalogue/stores.ts';
import { KlkError, splitWindow, windowDays, type AnswerInfo, type KlkClient, type KlkWindow } from '../klk/index.ts';
import type { Db } from '../db/types.ts';
import { AnswerBatch } from '../load/batch.ts';
import { StreamedLoad } from '../load/stream.ts';
import type { IsoDate } from '../shared/dates.ts';
import { isDatabaseLost } from '../shared/errors.ts';

/** Told when a request goes to KLK and when KLK answers it (any HTTP answer, an error status included). */
export interface KlkWatch {
  requestSent(): void;
  answered(): void;
}

export interface FetchWindowOptions {
  /** Default: only a one-day window is asked again after a timeout; a longer one fails at once, to be halved. */
  retryTimeouts?: boolean;
  /** Attempts for this request (default: the client's). */
  attempts?: number;
  /** Aborted: the request is cut and its abort thrown, not reported as a failure of KLK's. */
  signal?: AbortSignal;
  watch?: KlkWatch;
  /**
   * The database the answer will be loaded into (loadAnswer): on PostgreSQL its rows are sent there while it still
   * arrives, in the transaction loadAnswer then finishes. A caller that passes it must load the answer it gets.
   */
  streamInto?: Db;
}

/** KLK answered the window. */
export interface WindowAnswer {
  ok: true;
  store: Store;
  window: KlkWindow;
  batch: AnswerBatch;
  info: AnswerInfo;
  /** When the answer was in hand (performance.now()): its load is timed from here. */
  receivedAt: number;
  /** Its rows already on their way into the database (streamInto), in a transaction loadAnswer finishes. */
  streamed: StreamedLoad | null;
}

/** KLK failed the window for good (after the client's retries). */
export interface WindowFailure {
  ok: false;
  store: Store;
  window: KlkWindow;
  /** As klk_requests records it: `timeout` KLK's time limit, `failed` anything else. */
  outcome: 'timeout' | 'failed';
  /** The window's two halves, to ask instead, when it timed out and spans more than one day; null otherwise. */
  halves: [KlkWindow, KlkWindow] | null;
  /** Not even a connection was made (refused, DNS): KLK is unreachable, not misbehaving. */
  unreachable: boolean;
  /** KLK itself sent something back (an error status, a bad body): it is there, only failing. */
  answered: boolean;
  /** Attempts made, the failed last one included. */
  attempts: number;
  message: string;
  /** From the call to the failure. */
  durationMs: number;
}

export type WindowResult = WindowAnswer | WindowFailure;

/**
 * Asks KLK for one store's window. Resolves to the answer or to how the request failed; throws only what is no
 * outcome of the request: the caller's abort (`signal`), or a lost database (taking a KLK slot shared through it).
 */
export async function fetchWindow(
  klk: KlkClient,
  store: Store,
  window: KlkWindow,
  options: FetchWindowOptions = {},
): Promise<WindowResult> {
  const { signal, watch } = options;
  const started = performance.now();
  const streamInto = options.streamInto?.kind === 'postgres' ? options.streamInto : undefined;
  // Each attempt streams its own rows; a failed attempt's are rolled back before the next one's load can start.
  let streamed: StreamedLoad | null = null;
  const attemptFailed = () => {
    const previous = streamed;
    streamed = null;
    return previous?.abort(new Error('respuesta de KLK fallida'));
  };
  const newBatch = () => {
    void attemptFailed();
    const batch = new AnswerBatch(store, window);
    if (streamInto)
      batch.streamTo((streamed = new StreamedLoad(streamInto, store.id, window.fechaDesde, window.fechaHasta)));
    return batch;
  };
  watch?.requestSent();
  try {
    const { collector: batch, info } = await klk.fetchVentas(
      { sucursal: store.sucursal, almacen: store.almacen, window },
      newBatch,
      {
        retryTimeouts: options.retryTimeouts ?? window.fechaDesde === window.fechaHasta,
        attempts: options.attempts,
        signal,
        // KLK has answered once its status line is in: a long body is KLK answering, not KLK silent.
        onResponse: watch && (() => watch.answered()),
      },
    );
    watch?.answered();
    batch.endStream();
    return { ok: true, store, window, batch, info, receivedAt: performance.now(), streamed };
  } catch (error) {
    await attemptFailed();
    const klkError = error instanceof KlkError ? error : null;
    if (klkError?.answered) watch?.answered();
    if (signal?.aborted || isDatabaseLost(error)) throw error;
    const timeout = klkError?.kind === 'timeout';
    return {
      ok: false,
      store,
      window,
      outcome: timeout ? 'timeout' : 'failed',
      halves: timeout ? splitWindow(window) : null,
      unreachable: klkError?.kind === 'network',
      answered: klkError?.answered ?? false,
      attempts: klkError?.attempts ?? 1,
      message: error instanceof Error ? error.message : String(error),
      durationMs: performance.now() - started,
    };
  }
}

/**
 * The days of the window the answer has no line of (none kept, none rejected) and does not prove empty, since it did
 * not prove itself whole (a `meta` echoing the request): KLK said nothing of them. None for a proven answer.
 */
export function silentDays(answer: WindowAnswer): IsoDate[] {
  if (answer.info.proven) return [];
  const rejected = answer.batch.rejectedByDay();
  return windowDays(answer.window).filter((day) => !answer.batch.days.has(day) && !rejected.has(day));
}
