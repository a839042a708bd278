import { describe, expect, it } from 'vitest';
import { AnswerError, JsonArraySplitter, readAnswer } from './answer.ts';

const encoder = new TextEncoder();

async function* pieces(bytes: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength;) {
    const size = Math.max(1, sizes());
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function read(body: string | Uint8Array, size: number | (() => number) = 1 << 16) {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const lines: unknown[] = [];
  const answer = await readAnswer(pieces(bytes, typeof size === 'number' ? () => size : size), (line) =>
    lines.push(line),
  );
  return { answer, lines };
}

async function failure(body: string, size?: number): Promise<AnswerError> {
  const error = await read(body, size).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AnswerError);
  return error as AnswerError;
}

function meta(total: number, extra: Record<string, unknown> = {}) {
  return {
    sucursal_codigo: 'SUC012',
    fecha_desde: '2026-01-12',
    fecha_hasta: '2026-01-12',
    hora_desde: '',
    hora_hasta: '',
    CodArticulo: '',
    almacen: 'TFAMA',
    total_registros: total,
    fecha_generacion: '2026-01-13T04:00:00Z',
    ...extra,
  };
}

/** Lines whose strings are hostile to a naive scanner: quotes, backslashes, brackets, commas, multi-byte text. */
const trickyLines: unknown[] = [
  { numero_factura: 'C10-01-00008064', linea: 1, producto: [{ descripcion_producto: 'HARINA "PAN" {1KG} [x], ok' }] },
  { numero_factura: 'C10-01-00008065', linea: 2, producto: [{ descripcion_producto: 'barra \\ invertida \\\\ "\\"' }] },
  {
    numero_factura: 'C10-01-00008066',
    linea: 3,
    nota: 'MAÑONGO — café ñandú 😀 𝄞 \u0000 \u001f \u2028',
    x: '"ventas":[',
  },
  { numero_factura: '\\', linea: 4, vacio: '', anidado: { a: [[], {}, [{}], { b: ['}', ']', '{', '['] }] } },
  { numero_factura: 'C10-01-00008067', linea: 5, ventas: [1, 2, 3], cantidad: [{ cantidad_vendida: -1.5e-7 }] },
];

describe('readAnswer', () => {
  it('streams the lines of an answer with meta and returns the meta, extra fields kept', async () => {
    const body = JSON.stringify({ meta: meta(trickyLines.length, { version: '2.1' }), ventas: trickyLines });
    const { answer, lines } = await read(body);
    expect(lines).toEqual(trickyLines);
    expect(answer.lines).toBe(trickyLines.length);
    expect(answer.bytes).toBe(encoder.encode(body).byteLength);
    expect(answer.meta).toMatchObject({
      sucursal_codigo: 'SUC012',
      total_registros: trickyLines.length,
      version: '2.1',
    });
  });

  it('accepts a bare list, an empty list, whitespace, a BOM and meta after the lines', async () => {
    expect((await read(JSON.stringify(trickyLines))).lines).toEqual(trickyLines);
    const empty = await read(' \n[ ]\r\n');
    expect(empty).toEqual({ answer: { meta: null, lines: 0, bytes: 7 }, lines: [] });
    const withBom = await read(`\uFEFF${JSON.stringify({ meta: meta(0), ventas: [] })}`);
    expect(withBom.answer.meta?.total_registros).toBe(0);
    const metaLast = await read(`{ "ventas" : [ {"linea":1} , {"linea":2} ] , "meta" : ${JSON.stringify(meta(2))} }`);
    expect(metaLast.lines).toEqual([{ linea: 1 }, { linea: 2 }]);
    expect(metaLast.answer.meta?.total_registros).toBe(2);
  });

  it('hands over elements of any JSON type, for the loader to judge', async () => {
    const { lines } = await read('[1, -2.5e3, "texto, con \\"comillas\\"", null, true, false, [], {}, [1,[2]]]', 3);
    expect(lines).toEqual([1, -2500, 'texto, con "comillas"', null, true, false, [], {}, [1, [2]]]);
  });

  it('gives the same lines whatever the chunk boundaries, byte by byte included', async () => {
    const body = JSON.stringify({ meta: meta(trickyLines.length), ventas: trickyLines });
    const bytes = encoder.encode(body);
    const byteByByte = await read(bytes, 1);
    expect(byteByByte.lines).toEqual(trickyLines);
    expect(byteByByte.answer.meta?.total_registros).toBe(trickyLines.length);
    let seed = 7;
    const randomSize = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return 1 + (seed % 40);
    };
    for (let round = 0; round < 200; round++) expect((await read(bytes, randomSize)).lines).toEqual(trickyLines);
  });

  it('streams only the top-level ventas array, not one nested in meta or named in a string', async () => {
    const body = JSON.stringify({
      meta: meta(1, { ventas: [{ no: 'es una línea' }] }),
      nota: '"ventas":[{"falsa":1}]',
      'ventas\\': [{ otra: 'clave' }],
      ventas_previas: [{ tampoco: true }],
      ventas: [{ linea: 1 }],
    });
    const { answer, lines } = await read(body, 5);
    expect(lines).toEqual([{ linea: 1 }]);
    expect(answer.meta).toMatchObject({ ventas: [{ no: 'es una línea' }] });
  });

  it('takes a meta without optional echoes, and null when the answer has none', async () => {
    const minimal = {
      sucursal_codigo: 'SUC001',
      fecha_desde: '2026-01-12',
      fecha_hasta: '2026-01-12',
      total_registros: '1',
    };
    const { answer } = await read(JSON.stringify({ meta: minimal, ventas: [{}] }));
    expect(answer.meta?.total_registros).toBe(1);
    expect((await read('{"ventas":[{}]}')).answer.meta).toBeNull();
  });

  it('reports an error payload as a failure, never as no sales', async () => {
    expect(await failure('{"error":"Timeout expired. SQL Server"}')).toMatchObject({
      kind: 'error-payload',
      message: 'KLK respondió con error: Timeout expired. SQL Server',
    });
    expect((await failure('{"error":{"code":7},"meta":null,"ventas":[]}')).kind).toBe('error-payload');
    // An empty or null error beside real data is no error.
    expect((await read(`{"error":null,"meta":${JSON.stringify(meta(1))},"ventas":[{}]}`)).lines).toHaveLength(1);
  });

  it('calls every strict prefix of a valid answer truncated, empty body included', async () => {
    const body = JSON.stringify({ meta: meta(2), ventas: [{ a: 'x\\"y' }, [1, 'ñ']] });
    for (let cut = 0; cut < body.length; cut++) {
      const error = await failure(body.slice(0, cut), 4);
      expect([cut, error.kind]).toEqual([cut, 'truncated']);
    }
    expect((await failure('   ')).message).toBe('respuesta vacía');
  });

  it('calls a total_registros that disagrees with the lines received truncated', async () => {
    const error = await failure(JSON.stringify({ meta: meta(3), ventas: [{}, {}] }));
    expect(error).toMatchObject({ kind: 'truncated', message: 'KLK anunció 3 líneas (total_registros) y llegaron 2' });
  });

  it('rejects invalid JSON inside and around the lines', async () => {
    const invalid = [
      '{"ventas":[{"a":1} {"a":2}]}',
      '{"ventas":[{"a":1},]}',
      '{"ventas":[,{"a":1}]}',
      '{"ventas":[{"a":1},,{"a":2}]}',
      '{"ventas":[{"a":}]}',
      '{"ventas":[{"a":1]]}',
      '{"ventas":[tru]}',
      '{"ventas":[1 2]}',
      '{"ventas":[}',
      '{"meta":{"a":1,},"ventas":[]}',
      '{"ventas":[]} {"ventas":[]}',
      '{"ventas":[]}]',
      '[{"a":1}]x',
      '<html>Bad gateway</html>',
    ];
    for (const body of invalid) expect([body, (await failure(body, 3)).kind]).toEqual([body, 'invalid-json']);
  });

  /** The failure `body` gives cut in two at every byte (inside every key included), and byte by byte. */
  async function failuresAtEverySplit(body: string): Promise<AnswerError[]> {
    const bytes = encoder.encode(body);
    const errors: AnswerError[] = [];
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      const sizes = [cut, bytes.byteLength];
      const error = await read(bytes, () => sizes.shift() ?? 1).then(
        () => null,
        (e: unknown) => e,
      );
      expect([cut, error]).toEqual([cut, expect.any(AnswerError)]);
      errors.push(error as AnswerError);
    }
    errors.push(await failure(body, 1));
    return errors;
  }

  it.each([
    [
      'two ventas lists',
      `{"meta":${JSON.stringify(meta(2))},"ventas":[{"linea":1},{"linea":2}],"ventas":[{"linea":3}]}`,
      'ventas',
    ],
    ['two ventas lists, no meta', '{"ventas":[{"linea":1}] , "ventas" : [{"linea":2}]}', 'ventas'],
    ['the second ventas key escaped', '{"ventas":[{"linea":1}],"\\u0076entas":[{"linea":2}]}', 'ventas'],
    ['a ventas list then a scalar', '{"ventas":[{"linea":1}],"ventas":null}', 'ventas'],
    ['a ventas scalar then a list', '{"ventas":0,"ventas":[{"linea":1}]}', 'ventas'],
    [
      'meta twice',
      `{"meta":${JSON.stringify(meta(2))},"meta":${JSON.stringify(meta(1))},"ventas":[{"linea":1}]}`,
      'meta',
    ],
    [
      'meta before and after the lines',
      `{"meta":${JSON.stringify(meta(2))},"ventas":[{"linea":1}],"meta":${JSON.stringify(meta(1))}}`,
      'meta',
    ],
    [
      'total_registros twice in meta',
      `{"meta":${JSON.stringify(meta(2)).replace('{', '{"total_registros":1,')},"ventas":[{"linea":1}]}`,
      'total_registros',
    ],
    ['error twice', '{"error":"Timeout","error":null,"ventas":[]}', 'error'],
  ])('fails an answer with a key twice (%s): JSON.parse would keep one silently', async (_name, body, key) => {
    for (const error of await failuresAtEverySplit(body)) {
      expect(error).toMatchObject({
        kind: 'invalid-json',
        message: `JSON inválido: la clave "${key}" aparece dos veces; no se sabe cuál vale`,
      });
    }
  });

  it('fails a second ventas list as soon as it opens, never handing over its lines', async () => {
    const seen: unknown[] = [];
    const body = '{"ventas":[{"linea":1}],"ventas":[{"linea":2},{"linea":3}]}';
    const error = await readAnswer(
      pieces(encoder.encode(body), () => 5),
      (line) => seen.push(line),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'invalid-json' });
    expect(seen).toEqual([{ linea: 1 }]);
  });

  it.each([
    ['an object then text', '{"ventas":[{"linea":1}]}x'],
    ['an object then a second object', '{"ventas":[{"linea":1}]}\n{"ventas":[{"linea":2}]}'],
    ['an object then a closing bracket', `{"meta":${JSON.stringify(meta(1))},"ventas":[{"linea":1}]} ]`],
    ['a bare list then text', '[{"linea":1}] <html>'],
    ['a bare list then a second list', '[{"linea":1}][{"linea":2}]'],
    ['a bare list then a number', '[{"linea":1}] 0'],
  ])('fails trailing garbage after the answer (%s)', async (_name, body) => {
    for (const error of await failuresAtEverySplit(body)) {
      expect(error).toMatchObject({
        kind: 'invalid-json',
        message: 'JSON inválido: hay contenido después del final del JSON',
      });
    }
  });

  it('fails an error key beside lines, wherever it stands', async () => {
    for (const body of ['{"ventas":[{"linea":1}],"error":"Deadlock"}', '{"error":"Deadlock","ventas":[{"linea":1}]}']) {
      for (const error of await failuresAtEverySplit(body)) {
        expect(error).toMatchObject({ kind: 'error-payload', message: 'KLK respondió con error: Deadlock' });
      }
    }
  });

  it('counts lines as KLK sends them, duplicates included, against total_registros', async () => {
    const twice = [
      { numero_factura: 'C10-01-00000001', linea: 1 },
      { numero_factura: 'C10-01-00000001', linea: 1 },
      { linea: 2 },
    ];
    const whole = await read(JSON.stringify({ meta: meta(3), ventas: twice }), 7);
    expect(whole.lines).toEqual(twice);
    expect(whole.answer).toMatchObject({ lines: 3, meta: { total_registros: 3 } });
    // Announcing only the distinct lines (or more lines than came) is a disagreement, whatever the cause.
    expect(await failure(JSON.stringify({ meta: meta(2), ventas: twice }), 7)).toMatchObject({
      kind: 'truncated',
      message: 'KLK anunció 2 líneas (total_registros) y llegaron 3',
    });
    expect((await failure(JSON.stringify({ ventas: twice, meta: meta(4) }), 7)).message).toBe(
      'KLK anunció 4 líneas (total_registros) y llegaron 3',
    );
  });

  it('rejects answers of the wrong shape as invalid answers', async () => {
    const wrong = [
      '{"meta":{"sucursal_codigo":"SUC001"}}',
      '{"ventas":{"a":1}}',
      '{"ventas":null}',
      '"hola"',
      '42',
      '{"meta":{"sucursal_codigo":"SUC001","fecha_desde":"2026-01-12","fecha_hasta":"2026-01-12"},"ventas":[]}',
      '{"meta":{"sucursal_codigo":"SUC001","fecha_desde":"x","fecha_hasta":"x","total_registros":-1},"ventas":[]}',
    ];
    for (const body of wrong) expect([body, (await failure(body)).kind]).toEqual([body, 'invalid-answer']);
    expect((await failure(wrong[5]!)).message).toMatch(/meta\.total_registros/);
  });

  it('parses plain objects itself when asked, and leaves to the text path any element whose first "}," is not its end', () => {
    const values: unknown[] = [];
    const texts: string[] = [];
    const splitter = new JsonArraySplitter(
      (text) => texts.push(text),
      (value) => values.push(value),
    );
    const elements = [{ a: 1 }, { s: 'x},{"b":2}' }, { l: [{ c: 1 }, { d: 2 }] }, { e: 3 }, { last: true }];
    splitter.push(JSON.stringify({ ventas: elements }));
    expect(values).toEqual([{ a: 1 }, { e: 3 }]);
    expect(texts.map((t) => JSON.parse(t))).toEqual([elements[1], elements[2], elements[4]]);
  });

  it('keeps memory bounded: element texts are handed over one by one, the outside text stays small', () => {
    const texts: string[] = [];
    const splitter = new JsonArraySplitter((text) => texts.push(text));
    splitter.push('{"meta":{"total_registros":2},"ventas":[{"a":"}"}');
    splitter.push(',\n {"b":[1,2]}]}');
    expect(texts).toEqual(['{"a":"}"}', '{"b":[1,2]}']);
    expect(splitter.end()).toEqual({
      root: 'object',
      streamedVentas: true,
      outside: '{"meta":{"total_registros":2},"ventas":[]}',
    });
  });
});

describe('readAnswer: which lines had escapes', () => {
  // Only an escape can give a string U+0000 or a lone surrogate; the loader searches just the lines that had one.
  const lines = [
    { a: 'plain ñ 😀' },
    { a: 'nul \u0000' },
    { a: 'lone \ud800' },
    { a: 'quote "' },
    { a: 'plain' },
    { a: 'end' },
  ];
  const body = JSON.stringify({ meta: meta(lines.length), ventas: lines });

  it.each([1, 7, 1 << 16])(
    'tells them apart in pieces of %i bytes, whichever way each line is parsed',
    async (size) => {
      const seen: Array<[unknown, boolean]> = [];
      await readAnswer(
        pieces(encoder.encode(body), () => size),
        (line, escaped) => seen.push([line, escaped]),
      );
      expect(seen).toEqual(lines.map((line, i) => [line, i === 1 || i === 2 || i === 3]));
      // JSON.parse gives the lone surrogate itself: TextEncoder would write it as U+FFFD, hence the loader's check.
      expect((seen[2]![0] as { a: string }).a.charCodeAt(5)).toBe(0xd800);
    },
  );
});
