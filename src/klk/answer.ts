/**
 * Streaming reader of KLK answers. A big answer (100,000+ lines of ~1.2 KB) must not be buffered whole, so a scanner
 * finds the boundaries of each element of the top-level `ventas` array (or of a bare top-level list) as the body
 * arrives, and native JSON.parse turns each element's text into a value. Everything outside that array (meta, error)
 * is kept as text and parsed at the end.
 */
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

/**
 * Finds the elements of the top-level `ventas` array (or of a top-level list) in JSON text pushed in pieces of any
 * size, and hands each element's text to `onItem`. It tracks strings, escapes and nesting only: the element texts
 * and the outside text are validated by JSON.parse, and the array's own commas are checked here.
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
  /** Text of the current element from earlier pieces. */
  private pending = '';
  private outside = '';

  constructor(private readonly onItem: (text: string) => void) {}

  push(text: string): void {
    const n = text.length;
    let i = 0;
    // Start of the current element in `text` (0 when it began in an earlier piece), or -1.
    let elementStart = this.element === Element.None ? -1 : 0;
    // Start of the outside text being collected from `text`, or -1 while inside the streamed array.
    let outsideStart = this.inItems ? -1 : 0;
    let nextBackslash = text.indexOf('\\');

    while (i < n) {
      if (this.inString) {
        if (this.escapePending) {
          this.escapePending = false;
          i++;
          continue;
        }
        // Jump to the closing quote; backslashes are rare, so their next position is cached for the whole piece.
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = text.indexOf('\\', i);
        const quote = text.indexOf('"', i);
        if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
          if (nextBackslash + 1 >= n) this.escapePending = true;
          i = nextBackslash + 2;
          continue;
        }
        if (quote === -1) {
          i = n;
          break;
        }
        i = quote + 1;
        this.inString = false;
        if (this.element === Element.Text) {
          this.emit(text, elementStart, i);
          elementStart = -1;
        }
        continue;
      }

      const c = text.charCodeAt(i);

      if (this.element === Element.Primitive) {
        // A bare number, true, false or null ends at the first delimiter, which is then read at the array's level.
        if (isWhitespace(c) || c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || c === QUOTE ||
            c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.emit(text, elementStart, i);
          elementStart = -1;
        } else {
          i++;
        }
        continue;
      }

      if (this.inItems && this.depth === this.itemsDepth) {
        // At the streamed array's own level, between elements.
        if (isWhitespace(c)) {
          i++;
          continue;
        }
        if (c === CLOSE_BRACKET) {
          if (this.expect === Expect.Value) throw invalidJson('coma sobrante antes del cierre de la lista');
          this.inItems = false;
          this.depth--;
          outsideStart = i;
          i++;
          if (this.depth === 0) this.rootClosed = true;
          continue;
        }
        if (c === COMMA) {
          if (this.expect !== Expect.CommaOrClose) throw invalidJson('coma inesperada en la lista');
          this.expect = Expect.Value;
          i++;
          continue;
        }
        if (this.expect === Expect.CommaOrClose) throw invalidJson('falta una coma entre dos elementos de la lista');
        if (c === CLOSE_BRACE || c === 0x3a /* : */) throw invalidJson(`carácter inesperado "${text[i]}" en la lista`);
        elementStart = i;
        i++;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.element = Element.Compound;
          this.depth++;
        } else if (c === QUOTE) {
          this.element = Element.Text;
          this.inString = true;
        } else {
          this.element = Element.Primitive;
        }
        continue;
      }

      // Inside an element or outside the streamed array: only strings and nesting matter.
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
          if (this.root === Root.List) {
            this.enterItems(1);
            this.outside += text.slice(outsideStart, i + 1);
            outsideStart = -1;
            i++;
            continue;
          }
        } else if (c === OPEN_BRACKET && this.depth === 1 && this.root === Root.Object && !this.streamedVentas) {
          this.outside += text.slice(outsideStart, i + 1);
          outsideStart = i + 1;
          if (lastKey(this.outside) === 'ventas') {
            this.streamedVentas = true;
            this.enterItems(2);
            outsideStart = -1;
            i++;
            continue;
          }
        }
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth === 0) throw invalidJson(`cierre "${text[i]}" sin apertura`);
        this.depth--;
        if (this.element === Element.Compound && this.depth === this.itemsDepth) {
          this.emit(text, elementStart, i + 1);
          elementStart = -1;
        } else if (this.depth === 0) {
          this.rootClosed = true;
        }
      }
      i++;
    }

    if (elementStart !== -1) this.pending += text.slice(elementStart);
    if (outsideStart !== -1) this.outside += text.slice(outsideStart);
  }

  /** Call once the whole body was pushed. Throws `truncated` when the JSON is not complete. */
  end(): SplitResult {
    if (this.root === Root.None) throw new AnswerError('truncated', 'respuesta vacía');
    if (this.inString || this.depth > 0 || this.element !== Element.None) {
      throw new AnswerError('truncated', 'la respuesta terminó antes de completar el JSON');
    }
    const root = this.root === Root.Object ? 'object' : this.root === Root.List ? 'list' : 'other';
    return { root, streamedVentas: this.streamedVentas, outside: this.outside };
  }

  private enterItems(itemsDepth: number): void {
    this.inItems = true;
    this.itemsDepth = itemsDepth;
    this.depth = itemsDepth;
    this.expect = Expect.ValueOrClose;
  }

  private emit(text: string, start: number, end: number): void {
    const piece = text.slice(start, end);
    const item = this.pending === '' ? piece : this.pending + piece;
    this.pending = '';
    this.element = Element.None;
    this.expect = Expect.CommaOrClose;
    this.onItem(item);
  }
}

function invalidJson(detail: string): AnswerError {
  return new AnswerError('invalid-json', `JSON inválido: ${detail}`);
}

/** The key of the value that starts at the end of `text` (`..."ventas" : [`), or null. */
function lastKey(text: string): string | null {
  let j = text.length - 2; // before the `[`
  while (j >= 0 && isWhitespace(text.charCodeAt(j))) j--;
  if (text.charCodeAt(j) !== 0x3a /* : */) return null;
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
 * Reads a KLK answer body, handing each line (parsed, not validated) to `onLine` as it arrives. Throws AnswerError
 * for an error payload, a truncated or invalid body, an unexpected shape, or a `total_registros` that disagrees with
 * the lines received. Errors of the stream itself (aborts, broken connections) pass through unchanged.
 */
export async function readAnswer(body: AsyncIterable<Uint8Array>, onLine: (line: unknown) => void): Promise<Answer> {
  let lines = 0;
  let bytes = 0;
  const splitter = new JsonArraySplitter((text) => {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch (error) {
      throw invalidJson(`línea ${lines + 1}: ${(error as Error).message}`);
    }
    lines++;
    onLine(line);
  });
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    splitter.push(decoder.decode(chunk, { stream: true }));
  }
  splitter.push(decoder.decode());
  const meta = interpretOutside(splitter.end());
  if (meta && meta.total_registros !== lines) {
    throw new AnswerError(
      'truncated',
      `KLK anunció ${meta.total_registros} líneas (total_registros) y llegaron ${lines}`,
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
