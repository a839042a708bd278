import { createHash } from 'node:crypto';
import type { Store } from '../catalogue/stores.ts';
import { isValidDate, type IsoDate } from '../shared/dates.ts';
import { DAY_END, DAY_START, type KlkWindow } from '../shared/window.ts';
import { lineToRow, rowKey, toCopyLine, type VentaRow } from './rows.ts';

export interface Rejection {
  numeroFactura?: string;
  linea?: string;
  /** The line's local day, when its date was readable. */
  day?: IsoDate;
  reason: string;
  line: unknown;
}

/** Takes an answer's rows (COPY text, whole rows) piece by piece as they are ready. */
export interface PieceSink {
  push(piece: Buffer): void;
  end(): void;
}

export interface DayTally {
  lines: number;
  /** USD total in units of 0.0001, the precision `ventas` keeps: an exact integer sum. */
  totalUsdE4: number;
}

/** The lines of one day that were rejected, and a fingerprint of them that does not depend on their order. */
export interface RejectedTally {
  lines: number;
  fingerprint: string;
}

/**
 * The rejected lines of a day as four 32-bit sums of each line's SHA-256: the same lines in any order give the same
 * fingerprint, any changed, added or removed line another one, in constant memory however broken the answer.
 */
class RejectedDay {
  lines = 0;
  private readonly sums = new Uint32Array(4);

  add(line: unknown): void {
    this.lines++;
    const digest = createHash('sha256')
      .update(JSON.stringify(line) ?? 'undefined')
      .digest();
    for (let i = 0; i < this.sums.length; i++) this.sums[i] = this.sums[i]! + digest.readUInt32LE(i * 4);
  }

  tally(): RejectedTally {
    return { lines: this.lines, fingerprint: [...this.sums].map((n) => n.toString(16).padStart(8, '0')).join('') };
  }
}

function readableDay(raw: unknown): IsoDate | undefined {
  const fecha = (raw as { fecha?: unknown } | null)?.fecha;
  return typeof fecha === 'string' && isValidDate(fecha) ? fecha : undefined;
}

/**
 * COPY text is written into buffers outside the JavaScript heap, so hundreds of thousands of rows cost the garbage
 * collector nothing, and they are sent to the server as they are. Pieces double from 64 KiB (a one-hour answer
 * stays small) up to 1 MiB.
 */
const FIRST_PIECE_BYTES = 1 << 16;
const MAX_PIECE_BYTES = 1 << 20;

/** Rejected lines kept whole for the quarantine; past this only the count grows (a broken answer stays bounded). */
const MAX_KEPT_REJECTIONS = 1_000;

/**
 * Collects one KLK answer for one store as it streams in: each line validated and transformed on arrival, kept as
 * its `ventas` row in COPY text (far smaller than the parsed JSON, and what the loader sends as is), duplicates
 * dropped by key, lines outside the asked window or of another warehouse rejected.
 */
export class AnswerBatch {
  private readonly pieces: Buffer[] = [];
  private piece = Buffer.allocUnsafe(FIRST_PIECE_BYTES);
  private used = 0;
  readonly days = new Map<string, DayTally>();
  /** Rejected lines per readable day, all of them (not only the kept ones). */
  private readonly rejectedDays = new Map<IsoDate, RejectedDay>();
  readonly rejections: Rejection[] = [];
  rejected = 0;
  duplicates = 0;
  received = 0;
  private readonly keys = new Set<string>();
  /** Keys of rejected lines: rows --mirror must not delete, since KLK still has the line. */
  private readonly rejectedKeys = new Set<string>();
  private keylessRejections = 0;
  private readonly fromTime: string;
  private readonly toTime: string;
  /** Told of each piece of rows as it is complete, while the answer still arrives (see streamTo). */
  private sink: PieceSink | null = null;

  constructor(
    readonly store: Store,
    /** The request window the answer belongs to. */
    readonly window: KlkWindow,
  ) {
    this.fromTime = window.horaDesde ?? DAY_START;
    this.toTime = window.horaHasta ?? DAY_END;
  }

  get size(): number {
    return this.keys.size;
  }

  /** The rows as COPY text (VENTAS_COLUMNS order), in pieces of several rows. */
  copyText(): readonly Buffer[] {
    this.closePiece();
    return this.pieces;
  }

  /**
   * Hands every piece of rows to `sink` as soon as it is complete, so they can be loaded while the answer still
   * arrives; the pieces are kept too (a load that cannot use the stream starts again from them). endStream() hands
   * over the last one.
   */
  streamTo(sink: PieceSink): void {
    this.sink = sink;
    for (const piece of this.pieces) sink.push(piece);
  }

  /** The answer is whole: the last piece goes to the sink, which is told there is no more. */
  endStream(): void {
    this.closePiece();
    this.sink?.end();
  }

  private closePiece(): void {
    if (this.used === 0) return;
    const piece = this.piece.subarray(0, this.used);
    this.pieces.push(piece);
    this.sink?.push(piece);
    this.piece = Buffer.allocUnsafe(Math.min(this.piece.length * 2, MAX_PIECE_BYTES));
    this.used = 0;
  }

  private writeRow(line: string): void {
    // Three bytes per UTF-16 unit is the most UTF-8 needs; a longer row (never seen) gets a piece of its own.
    if (this.used + line.length * 3 > this.piece.length) {
      this.closePiece();
      if (line.length * 3 > this.piece.length) this.piece = Buffer.allocUnsafe(line.length * 3);
    }
    this.used += this.piece.write(line, this.used);
  }

  /**
   * The keys (`numero_factura` values) --mirror keeps on the batch's days: the loaded rows and the lines KLK sent but
   * the batch rejected. Null when a rejected line had no readable key: nothing can then be deleted safely.
   */
  mirrorKeys(): string[] | null {
    return this.keylessRejections > 0 ? null : [...this.keys, ...this.rejectedKeys];
  }

  /**
   * Whether the answer proves itself whole: KLK's meta announced its line count and exactly that many arrived
   * (loaded, duplicated or rejected). Only then may --mirror delete, or a check conclude anything.
   */
  isVerifiedComplete(totalRegistros: number | null): boolean {
    return totalRegistros !== null && this.received === totalRegistros;
  }

  /** Per day with rejected lines: how many, and their fingerprint. */
  rejectedByDay(): Map<IsoDate, RejectedTally> {
    return new Map([...this.rejectedDays].map(([day, rejected]) => [day, rejected.tally()]));
  }

  /**
   * `escaped: false` tells the line came from JSON text without any backslash escape: it cannot hold U+0000 or a lone
   * surrogate, and is not searched for them (lines from elsewhere always are).
   */
  add(raw: unknown, escaped = true): void {
    this.received++;
    const result = lineToRow(raw, this.store, escaped);
    if (!result.ok) {
      this.reject({
        numeroFactura: result.numeroFactura,
        linea: result.linea,
        day: readableDay(raw),
        reason: result.reason,
        line: raw,
      });
      return;
    }
    const row = result.row;
    const day = (row.fecha_venta as string).slice(0, 10);
    const time = (row.fecha_venta as string).slice(11, 19);
    if (day < this.window.fechaDesde || day > this.window.fechaHasta || time < this.fromTime || time > this.toTime) {
      this.reject(
        { reason: `fuera de la ventana pedida (${row.fecha_venta})`, line: raw, day, ...keyOf(row) },
        row.numero_factura as string,
      );
      return;
    }
    const key = row.numero_factura as string;
    if (this.keys.has(key)) {
      this.duplicates++;
      return;
    }
    this.keys.add(key);
    this.writeRow(toCopyLine(row));
    let tally = this.days.get(day);
    if (!tally) this.days.set(day, (tally = { lines: 0, totalUsdE4: 0 }));
    tally.lines++;
    tally.totalUsdE4 += Math.round((row.venta_total as number) * 1e4);
  }

  private reject(rejection: Rejection, key?: string): void {
    this.rejected++;
    const { numeroFactura, linea, day } = rejection;
    if (day !== undefined) {
      let rejected = this.rejectedDays.get(day);
      if (!rejected) this.rejectedDays.set(day, (rejected = new RejectedDay()));
      rejected.add(rejection.line);
    }
    if (key !== undefined) this.rejectedKeys.add(key);
    else if (numeroFactura !== undefined && linea !== undefined)
      this.rejectedKeys.add(rowKey(numeroFactura.trim(), linea));
    else this.keylessRejections++;
    if (this.rejections.length < MAX_KEPT_REJECTIONS) this.rejections.push(rejection);
  }
}

function keyOf(row: VentaRow): { numeroFactura: string; linea: string } {
  const key = row.numero_factura as string;
  const at = key.lastIndexOf('_L');
  return { numeroFactura: key.slice(0, at), linea: key.slice(at + 2) };
}
