/**
 * An answer's rows sent to PostgreSQL while the answer still arrives, so the server takes (and indexes) rows while
 * the next ones are being parsed: the two cores work at once instead of taking turns. One transaction per answer, as
 * a load after the answer: opened with the first piece of rows, it takes the store's lock, chooses the way in (straight
 * into `ventas` when the answer's days have no rows; otherwise through the staging table, merged a slice at a time)
 * and COPYs the pieces as they come;
 * then it waits, COPY done, for the caller to finish the load in it (the merge, the quarantine, the day summaries, the
 * request) and commit. An answer that fails (malformed at its end, cut, a retry) aborts it: everything rolls back.
 *
 * PostgreSQL only: PGlite reads a COPY whole before it starts, so there the load waits for the answer as before.
 */
import type { Db, Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { PieceSink } from './batch.ts';
import {
  copyNewSales,
  disableJit,
  hasSales,
  lockStoreLoads,
  mergeStagedSales,
  stageSales,
  type MergeCounts,
} from './ventas.ts';

/**
 * Rows (COPY text) staged and merged at a time on a re-load: about 10,000 of KLK's rows. Small, so the merge left
 * when the answer ends (the one part of a re-load that does not overlap the parsing) is short.
 */
export const MERGE_SLICE_BYTES = 2 << 20;

/** What the streamed COPY did, in the transaction the load finishes in. */
export type SentRows =
  /** Every row is in `ventas` (the days had none). */
  | { into: 'ventas'; copied: number }
  /** Every row was merged, slice by slice, through the staging table (the days had rows). */
  | { into: 'merged'; copied: number; merged: MergeCounts }
  /** Straight in was refused (a key of the answer is on another day) and undone: the rows are to be merged. */
  | { into: 'nowhere' };

type Finish = (tx: Queryable, sent: SentRows) => Promise<unknown>;

export class StreamedLoad implements PieceSink {
  private readonly queue: Buffer[] = [];
  private ended = false;
  /** The COPY stopped reading (done or failed): pieces are no longer queued. */
  private closed = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;
  private transaction: Promise<unknown> | null = null;
  private finishWith: (() => void) | null = null;
  private refuse: ((error: unknown) => void) | null = null;
  /** Resolved when the caller hands over how to finish (finishFn); that function is dropped once it has run. */
  private readonly finishing: Promise<void>;
  private finishFn: Finish | null = null;
  private used = false;

  constructor(
    private readonly db: Db,
    private readonly storeId: string,
    private readonly from: IsoDate,
    private readonly to: IsoDate,
    private readonly sliceBytes = MERGE_SLICE_BYTES,
  ) {
    this.finishing = new Promise<void>((resolve, reject) => {
      this.finishWith = resolve;
      this.refuse = reject;
    });
    // Observed by the transaction when it gets there; an answer that fails before any row left none.
    this.finishing.catch(() => undefined);
  }

  /** Whether a transaction was opened (a piece came): finish() runs in it. */
  get started(): boolean {
    return this.transaction !== null;
  }

  push(piece: Buffer): void {
    if (this.closed || this.failure) return;
    this.queue.push(piece);
    if (!this.transaction) this.start();
    this.wakeUp();
  }

  end(): void {
    this.ended = true;
    this.wakeUp();
  }

  /**
   * Finishes the load in the streaming transaction once its COPY is done, and commits: `fn`'s result, or what failed
   * (the COPY, the connection, `fn`), everything then rolled back. Once only; null when no piece came (nothing was
   * opened) or it was already used: the caller loads as usual.
   */
  finish<T>(fn: (tx: Queryable, sent: SentRows) => Promise<T>): Promise<T> | null {
    if (!this.transaction || this.used) return null;
    this.used = true;
    this.end();
    this.finishFn = fn;
    this.finishWith!();
    return this.transaction as Promise<T>;
  }

  /** The answer failed: whatever was sent is rolled back. Resolves once it is. */
  async abort(error: unknown): Promise<void> {
    this.used = true;
    this.failure ??= { error };
    this.queue.length = 0;
    this.wakeUp();
    this.refuse!(error);
    await this.transaction?.catch(() => undefined);
  }

  private start(): void {
    this.transaction = this.db.transaction(async (tx) => {
      await lockStoreLoads(tx, this.storeId);
      await disableJit(tx);
      let sent: SentRows;
      try {
        if (await hasSales(tx, this.storeId, this.from, this.to)) {
          // Merged a slice at a time: the server merges one while the next is being parsed.
          const merged: MergeCounts = { inserted: 0, updated: 0, leftDays: [] };
          let copied = 0;
          do {
            copied += await stageSales(tx, this.pieces(this.sliceBytes));
            const slice = await mergeStagedSales(tx);
            merged.inserted += slice.inserted;
            merged.updated += slice.updated;
            merged.leftDays = [...new Set([...merged.leftDays, ...slice.leftDays])];
          } while (!this.drained());
          sent = { into: 'merged', copied, merged };
        } else {
          const copied = await copyNewSales(tx, this.pieces());
          sent = copied === null ? { into: 'nowhere' } : { into: 'ventas', copied };
        }
      } finally {
        this.closed = true;
        this.queue.length = 0;
      }
      await this.finishing;
      // Not kept past its run: it holds the whole answer, and this object can be kept after the load (the KLK client's
      // queue keeps finished tasks a while, and through fetchWindow's collector factory, this).
      const finish = this.finishFn!;
      this.finishFn = null;
      return finish(tx, sent);
    });
    // Observed by finish() or abort(); meanwhile a failure must not go unhandled.
    this.transaction.catch(() => undefined);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Every piece was handed over and there will be no more. */
  private drained(): boolean {
    return this.ended && this.queue.length === 0;
  }

  /**
   * The pieces as they come, until end() or `limit` bytes (a whole piece more at most); throws the abort's error, so
   * the COPY fails (and is undone).
   */
  private pieces(limit = Infinity): AsyncIterable<Buffer> {
    const done = { done: true, value: undefined } as const;
    let bytes = 0;
    let finished = false;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Buffer>> => {
          for (;;) {
            if (this.failure) throw this.failure.error;
            if (finished || this.closed || bytes >= limit) return done;
            const piece = this.queue.shift();
            if (piece) {
              bytes += piece.length;
              return { done: false, value: piece };
            }
            if (this.ended) return done;
            await new Promise<void>((resolve) => (this.wake = resolve));
          }
        },
        // The COPY is done reading (it ended, or failed).
        return: async (): Promise<IteratorResult<Buffer>> => {
          finished = true;
          this.wakeUp();
          return done;
        },
      }),
    };
  }
}
