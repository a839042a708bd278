/**
 * Builds JSON straight into bytes: precomputed fragments are copied, numbers are written digit by digit. An answer
 * of 100,000 lines (about 135 MB) is rendered without building strings, so without string flattening or GC churn.
 */

/** Room a chunk must have left before another line is written (a line is about 1.4 KB). */
const LINE_ROOM = 8 * 1024;

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(readonly chunkSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** Whether the chunk should be handed over before the next line. */
  get full(): boolean {
    return this.pos > this.buf.length - LINE_ROOM;
  }

  /** Hands over the bytes written so far and starts a fresh chunk (the old one now belongs to the caller). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
    return out;
  }

  bytes(fragment: Uint8Array): void {
    this.buf.set(fragment, this.pos);
    this.pos += fragment.length;
  }

  byte(code: number): void {
    this.buf[this.pos++] = code;
  }

  /** A non-negative integer. */
  uint(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    let digits = 2;
    for (let limit = 100; n >= limit; limit *= 10) digits++;
    this.digits(n, digits);
  }

  /** `n` as exactly `count` digits (leading zeros kept). */
  digits(n: number, count: number): void {
    const { buf } = this;
    let pos = this.pos + count;
    this.pos = pos;
    for (let i = 0; i < count; i++) {
      const q = Math.floor(n / 10);
      buf[--pos] = 48 + n - q * 10;
      n = q;
    }
  }

  /**
   * A fixed-point integer as a JSON number: `value / 10^decimals`, trailing zeros dropped
   * (123400 with 4 decimals is `12.34`), the same text as `String(value / 10 ** decimals)`.
   */
  fixed(value: number, decimals: number, scale: number): void {
    if (value < 0) {
      this.byte(45);
      value = -value;
    }
    const whole = Math.floor(value / scale);
    let frac = value - whole * scale;
    this.uint(whole);
    if (frac === 0) return;
    this.byte(46);
    let count = decimals;
    while (frac % 10 === 0) {
      frac /= 10;
      count--;
    }
    this.digits(frac, count);
  }
}

export const fragment = (text: string): Buffer => Buffer.from(text, 'utf8');
