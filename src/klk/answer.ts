/**
 * Streaming reader of KLK answers. A big answer (100,000+ lines of ~1.2 KB) must not be buffered whole, so a scanner
 * finds the boundaries of each element of the top-level `ventas` array (or of a bare top-level list) as the body
 * arrives, and native JSON.parse turns each element's text into a value. Everything outside that array (meta, error)
 * is kept as text and parsed at the end.
 */
import { count, int } from '../shared/format.ts';
import { describeIssues, klkEnvelopeSchema, type KlkMeta } from './schema.ts';

export type AnswerErrorKind = 'truncated' | 'invalid-json' | 'invalid-answer' | 'error-payload';

/** The answer arrived but cannot be used. The client turns it into a KlkError. */
export class AnswerError extends Error {
  override name = 'AnswerError';
  constructor(
    readonly kind: AnswerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const enum Root {
  None,
  Object,
  List,
  Other,
}

/** What, at the array's own level, may come next. */
const enum Expect {
  ValueOrClose,
  CommaOrClose,
  Value,
}

const enum Element {
  None,
  Compound,
  Text,
  Primitive,
}

export type SplitResult = {
  /** `list` for a bare top-level array, `object` for an object (streamed `ventas` replaced by `[]`), else `other`. */
  root: 'object' | 'list' | 'other';
  /** True when the object had a top-level `ventas` array whose elements were streamed. */
  streamedVentas: boolean;
  /** The JSON text outside the streamed array, for JSON.parse. */
  outside: string;
};

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const OBJECT_THEN_COMMA = Buffer.from('},');

/**
 * Finds the elements of the top-level `ventas` array (or of a top-level list) in JSON pushed in pieces of any size,
 * and hands each element's text to `onItem`. It tracks strings, escapes and nesting only: the element texts and the
 * outside text are validated by JSON.parse, and the array's own commas are checked here. It scans bytes: every
 * character it looks for is ASCII, and no byte of a multi-byte UTF-8 character is, so each element is decoded on
 * its own (an ASCII element becomes a compact one-byte string) and the body is never decoded whole. A leading BOM
 * is skipped, as TextDecoder would.
 */
export class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escapePending = false;
  private root = Root.None;
  private rootClosed = false;
  private inItems = false;
  private itemsDepth = 0;
  private streamedVentas = false;
  private expect = Expect.ValueOrClose;
  private element = Element.None;
  /** Bytes of a leading BOM seen so far; -1 once past the start of the body. */
  private bomSeen = 0;
  /** Bytes of the current element from earlier pieces. */
  private pending: Buffer[] = [];
  private outside: Buffer[] = [];
  // Per piece: start of the current element (0 when it began in an earlier piece) and of the outside text being
  // collected (-1 while inside the streamed array), and the next backslash at or after the scan position.
  private elementStart = -1;
  private outsideStart = -1;
  private nextBackslash = -1;

  /**
   * `onValue`, when given, takes the elements the splitter could parse itself (see `parsedObject`), and whether their
   * text had a backslash escape; the others still go to `onItem` as text.
   */
  constructor(
    private readonly onItem: (text: string) => void,
    private readonly onValue?: (value: unknown, escaped: boolean) => void,
  ) {}

  push(piece: string | Uint8Array): void {
    const bytes =
      typeof piece === 'string'
        ? Buffer.from(piece, 'utf8')
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const n = bytes.length;
    let i = this.bomSeen >= 0 ? this.skipBom(bytes) : 0;
    this.elementStart = this.element === Element.None ? -1 : 0;
    this.outsideStart = this.inItems ? -1 : i;
    this.nextBackslash = bytes.indexOf(BACKSLASH, i);

    while (i < n) {
      if (this.inString) {
        i = this.skipString(bytes, i);
        if (!this.inString && this.element === Element.Text) this.emit(bytes, i);
      } else if (this.element === Element.Compound) {
        i = this.scanCompound(bytes, i);
      } else if (this.element === Element.Primitive) {
        i = this.scanPrimitive(bytes, i);
      } else if (this.inItems && this.depth === this.itemsDepth) {
        i = this.betweenItems(bytes, i);
      } else {
        i = this.outsideItems(bytes, i);
      }
    }

    if (this.elementStart !== -1 && this.elementStart < n) this.pending.push(bytes.subarray(this.elementStart));
    if (this.outsideStart !== -1 && this.outsideStart < n) this.outside.push(bytes.subarray(this.outsideStart));
  }

  /** Call once the whole body was pushed. Throws `truncated` when the JSON is not complete. */
  end(): SplitResult {
    if (this.bomSeen > 0) this.brokenBom();
    if (this.root === Root.None) throw new AnswerError('truncated', 'respuesta vacía');
    if (this.inString || this.depth > 0 || this.element !== Element.None) {
      throw new AnswerError('truncated', 'la respuesta terminó antes de completar el JSON');
    }
    const root = this.root === Root.Object ? 'object' : this.root === Root.List ? 'list' : 'other';
    return { root, streamedVentas: this.streamedVentas, outside: Buffer.concat(this.outside).toString('utf8') };
  }

  /** At the start of the body: consumes a BOM (or the part of it in this piece); returns where the JSON begins. */
  private skipBom(bytes: Buffer): number {
    let i = 0;
    while (this.bomSeen >= 0 && this.bomSeen < BOM.length && i < bytes.length) {
      if (bytes[i] !== BOM[this.bomSeen]) {
        if (this.bomSeen > 0) this.brokenBom();
        this.bomSeen = -1;
        return i;
      }
      this.bomSeen++;
      i++;
    }
    if (this.bomSeen === BOM.length) this.bomSeen = -1;
    return i;
  }

  /** The start of a BOM that did not finish: it is content after all (not JSON, so the answer cannot parse). */
  private brokenBom(): void {
    this.outside.push(BOM.subarray(0, this.bomSeen));
    this.root = Root.Other;
    this.bomSeen = -1;
  }

  /** Inside a string: returns the index after its closing quote, or `n` (still inside) at the end of the piece. */
  private skipString(bytes: Buffer, i: number): number {
    const n = bytes.length;
    if (this.escapePending) {
      this.escapePending = false;
      i++;
    }
    for (;;) {
      // Jump to the quote; backslashes are rare, so their next position is cached for the whole piece.
      const quote = bytes.indexOf(QUOTE, i);
      let backslash = this.nextBackslash;
      if (backslash !== -1 && backslash < i) backslash = this.nextBackslash = bytes.indexOf(BACKSLASH, i);
      if (backslash !== -1 && (quote === -1 || backslash < quote)) {
        if (backslash + 1 >= n) {
          this.escapePending = true;
          return n;
        }
        i = backslash + 2;
        continue;
      }
      if (quote === -1) return n;
      this.inString = false;
      return quote + 1;
    }
  }

  /** Inside an object or array element: the hot loop, only strings and nesting matter. */
  private scanCompound(bytes: Buffer, i: number): number {
    const n = bytes.length;
    const stop = this.itemsDepth;
    let depth = this.depth;
    while (i < n) {
      const c = bytes[i++]!;
      if (c === QUOTE) {
        this.inString = true;
        i = this.skipString(bytes, i);
        if (this.inString) break;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === stop) {
          this.depth = depth;
          this.emit(bytes, i);
          return i;
        }
      }
    }
    this.depth = depth;
    return i;
  }

  /** A bare number, true, false or null ends at the first delimiter, which is then read at the array's level. */
  private scanPrimitive(bytes: Buffer, i: number): number {
    const n = bytes.length;
    for (; i < n; i++) {
      const c = bytes[i]!;
      if (
        isWhitespace(c) ||
        c === COMMA ||
        c === CLOSE_BRACKET ||
        c === CLOSE_BRACE ||
        c === QUOTE ||
        c === OPEN_BRACE ||
        c === OPEN_BRACKET
      ) {
        this.emit(bytes, i);
        return i;
      }
    }
    return i;
  }

  /** At the streamed array's own level, between elements. */
  private betweenItems(bytes: Buffer, i: number): number {
    const c = bytes[i]!;
    if (isWhitespace(c)) return i + 1;
    if (c === CLOSE_BRACKET) {
      if (this.expect === Expect.Value) throw invalidJson('coma sobrante antes del cierre de la lista');
      this.inItems = false;
      this.depth--;
      if (this.depth === 0) this.rootClosed = true;
      this.outsideStart = i;
      return i + 1;
    }
    if (c === COMMA) {
      if (this.expect !== Expect.CommaOrClose) throw invalidJson('coma inesperada en la lista');
      this.expect = Expect.Value;
      return i + 1;
    }
    if (this.expect === Expect.CommaOrClose) throw invalidJson('falta una coma entre dos elementos de la lista');
    if (c === CLOSE_BRACE || c === COLON)
      throw invalidJson(`carácter inesperado "${String.fromCharCode(c)}" en la lista`);
    if (c === OPEN_BRACE && this.onValue) {
      const end = this.parsedObject(bytes, i);
      if (end !== -1) return end;
    }
    this.elementStart = i;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      this.element = Element.Compound;
      this.depth++;
    } else if (c === QUOTE) {
      this.element = Element.Text;
      this.inString = true;
    } else {
      this.element = Element.Primitive;
    }
    return i + 1;
  }

  /**
   * The shortcut for an object element: guess that it ends at the next `},` (true of every KLK line, whose inner
   * objects all sit alone in their arrays) and let JSON.parse judge. A JSON object has exactly one end, so a text
   * from its `{` that parses whole ends there; when the guess is wrong (a `},` inside a string or a nested list of
   * objects, the last element, an element cut by the piece's end) the parse fails and the scan takes over.
   * Returns the index after the element, or -1.
   */
  private parsedObject(bytes: Buffer, i: number): number {
    const end = bytes.indexOf(OBJECT_THEN_COMMA, i);
    if (end === -1) return -1;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8', i, end + 1));
    } catch {
      return -1;
    }
    this.expect = Expect.CommaOrClose;
    let backslash = this.nextBackslash;
    if (backslash !== -1 && backslash < i) backslash = this.nextBackslash = bytes.indexOf(BACKSLASH, i);
    this.onValue!(value, backslash !== -1 && backslash < end);
    return end + 1;
  }

  /** Outside the streamed array (meta, error...): strings and nesting, and where the streamed array starts. */
  private outsideItems(bytes: Buffer, i: number): number {
    const c = bytes[i]!;
    if (this.rootClosed) {
      if (!isWhitespace(c)) throw invalidJson('hay contenido después del final del JSON');
    } else if (this.root === Root.None && c !== OPEN_BRACE && c !== OPEN_BRACKET) {
      if (!isWhitespace(c)) this.root = Root.Other;
      if (c === QUOTE) this.inString = true;
    } else if (c === QUOTE) {
      this.inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (this.root === Root.None) {
        this.root = c === OPEN_BRACE ? Root.Object : Root.List;
        if (this.root === Root.List) return this.startItems(bytes, i, 1);
      } else if (
        c === OPEN_BRACKET &&
        this.depth === 1 &&
        this.root === Root.Object &&
        lastKey(Buffer.concat([...this.outside, bytes.subarray(this.outsideStart, i)]).toString('utf8')) === 'ventas'
      ) {
        // A second list would be buffered here, then JSON.parse would keep one of the two: fail before either.
        if (this.streamedVentas) throw duplicateKey('ventas');
        this.streamedVentas = true;
        return this.startItems(bytes, i, 2);
      }
      this.depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (this.depth === 0) throw invalidJson(`cierre "${String.fromCharCode(c)}" sin apertura`);
      if (--this.depth === 0) this.rootClosed = true;
    }
    return i + 1;
  }

  /** The streamed array opens at `bytes[i]`: outside text keeps its `[`, the elements go to `onItem`. */
  private startItems(bytes: Buffer, i: number, itemsDepth: number): number {
    this.outside.push(bytes.subarray(this.outsideStart, i + 1));
    this.outsideStart = -1;
    this.inItems = true;
    this.itemsDepth = this.depth = itemsDepth;
    this.expect = Expect.ValueOrClose;
    return i + 1;
  }

  /** The current element ends before `end`. */
  private emit(bytes: Buffer, end: number): void {
    let item: string;
    if (this.pending.length === 0) {
      item = bytes.toString('utf8', this.elementStart, end);
    } else {
      this.pending.push(bytes.subarray(this.elementStart, end));
      item = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
    }
    this.elementStart = -1;
    this.element = Element.None;
    this.expect = Expect.CommaOrClose;
    this.onItem(item);
  }
}

function invalidJson(detail: string): AnswerError {
  return new AnswerError('invalid-json', `JSON inválido: ${detail}`);
}

/**
 * JSON.parse keeps the last of two equal keys without a word; an answer that names `ventas` (or `meta`, `error`,
 * `total_registros`...) twice cannot be proven whole, so it is a failure like invalid JSON, retried.
 */
function duplicateKey(key: string): AnswerError {
  return invalidJson(`la clave "${key}" aparece dos veces; no se sabe cuál vale`);
}

/**
 * Throws when an object of `text` (valid JSON: the text outside the streamed lines, small) has a key twice. Keys are
 * compared decoded, as JSON.parse compares them.
 */
function checkUniqueKeys(text: string): void {
  const objects: Array<Set<string> | null> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE) objects.push(new Set());
    else if (c === OPEN_BRACKET) objects.push(null);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) objects.pop();
    else if (c === QUOTE) {
      const start = i;
      for (i++; text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      const keys = objects.at(-1);
      if (!keys) continue;
      let next = i + 1;
      while (isWhitespace(text.charCodeAt(next))) next++;
      if (text.charCodeAt(next) !== COLON) continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys.has(key)) throw duplicateKey(key);
      keys.add(key);
    }
  }
}

/** The key whose value starts right after `text` (`..."ventas" :`), or null. */
function lastKey(text: string): string | null {
  let j = text.length - 1;
  while (j >= 0 && isWhitespace(text.charCodeAt(j))) j--;
  if (text.charCodeAt(j) !== COLON) return null;
  j--;
  while (j >= 0 && isWhitespace(text.charCodeAt(j))) j--;
  if (text.charCodeAt(j) !== QUOTE) return null;
  const keyEnd = j;
  for (let open = text.lastIndexOf('"', keyEnd - 1); open >= 0; open = text.lastIndexOf('"', open - 1)) {
    let backslashes = 0;
    while (text.charCodeAt(open - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) {
      try {
        return JSON.parse(text.slice(open, keyEnd + 1)) as string;
      } catch {
        return null;
      }
    }
  }
  return null;
}

export type Answer = {
  /** null for a bare list, or an object answer without meta. */
  meta: KlkMeta | null;
  /** Elements handed over. */
  lines: number;
  bytes: number;
};

/**
 * Reads a KLK answer body, handing each line (parsed, not validated) to `onLine` as it arrives, with whether its text
 * had any backslash escape: without one no string of it can hold U+0000 or a lone UTF-16 surrogate (JSON forbids a
 * raw U+0000 in a string, and bytes that are not UTF-8 are decoded as U+FFFD), so the loader may skip looking for
 * them. Lines handed over before a failure belong to a failed answer: the caller discards them.
 * Throws AnswerError for an error payload, a truncated or invalid body (content after its end, a key twice outside
 * the lines), an unexpected shape, or a `total_registros` that disagrees with the lines received (counted as sent,
 * duplicates included). Errors of the stream itself (aborts, broken connections) pass through unchanged.
 */
export async function readAnswer(
  body: AsyncIterable<Uint8Array>,
  onLine: (line: unknown, escaped: boolean) => void,
): Promise<Answer> {
  let lines = 0;
  let bytes = 0;
  const splitter = new JsonArraySplitter(
    (text) => {
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch (error) {
        throw invalidJson(`línea ${lines + 1}: ${(error as Error).message}`);
      }
      lines++;
      onLine(line, text.includes('\\'));
    },
    (line, escaped) => {
      lines++;
      onLine(line, escaped);
    },
  );
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    splitter.push(chunk);
  }
  const meta = interpretOutside(splitter.end());
  if (meta && meta.total_registros !== lines) {
    throw new AnswerError(
      'truncated',
      `KLK anunció ${count(meta.total_registros, 'línea', 'líneas')} (total_registros) y llegaron ${int(lines)}`,
    );
  }
  return { meta, lines, bytes };
}

const MAX_ERROR_TEXT = 500;

/** Parses what surrounded the lines: an error payload, an envelope with meta, or the bare list's brackets. */
function interpretOutside(split: SplitResult): KlkMeta | null {
  let value: unknown;
  try {
    value = JSON.parse(split.outside);
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
  if (split.root === 'list') return null;
  checkUniqueKeys(split.outside);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AnswerError('invalid-answer', 'respuesta inesperada de KLK: se esperaba un objeto o una lista');
  }
  const error = (value as { error?: unknown }).error;
  if (error !== undefined && error !== null && error !== '') {
    const text = typeof error === 'string' ? error : JSON.stringify(error);
    throw new AnswerError('error-payload', `KLK respondió con error: ${text.slice(0, MAX_ERROR_TEXT)}`);
  }
  if (!split.streamedVentas) {
    throw new AnswerError('invalid-answer', 'respuesta inesperada de KLK: falta la lista "ventas"');
  }
  const envelope = klkEnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    throw new AnswerError('invalid-answer', `respuesta inesperada de KLK: ${describeIssues(envelope.error)}`);
  }
  return envelope.data.meta ?? null;
}
