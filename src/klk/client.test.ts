import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createKlkClient, KlkError, type KlkClientOptions, type KlkEvent, type KlkRequest } from './client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, index: number) => void;

type TestServer = {
  url: string;
  requests: Array<{ body: Record<string, unknown>; headers: IncomingMessage['headers'] }>;
  maxInFlight: number;
};

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** A tiny KLK stand-in on a free port; counts requests in flight until each response is finished or dropped. */
async function serve(handler: Handler): Promise<TestServer> {
  const state: TestServer = { url: '', requests: [], maxInFlight: 0 };
  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    let done = false;
    const finished = () => {
      if (!done) inFlight--;
      done = true;
    };
    res.on('finish', finished).on('close', finished);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      state.requests.push({ body, headers: req.headers });
      handler(req, res, body, state.requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return state;
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function meta(total: number) {
  return {
    sucursal_codigo: 'SUC001',
    fecha_desde: '2026-01-10',
    fecha_hasta: '2026-01-11',
    hora_desde: '',
    hora_hasta: '',
    CodArticulo: '',
    almacen: 'APP-TPF',
    total_registros: total,
    fecha_generacion: '2026-01-12T04:00:00Z',
  };
}

const line = (n: number) => ({ numero_factura: `C10-01-${String(n).padStart(8, '0')}`, linea: n, nota: 'ñ "x" {' });

class Lines {
  readonly lines: unknown[] = [];
  add(line: unknown): void {
    this.lines.push(line);
  }
}

const request: KlkRequest = {
  sucursal: 'SUC001',
  almacen: 'APP-TPF',
  window: { fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' },
};

function client(server: TestServer, options: Partial<KlkClientOptions> = {}) {
  const events: KlkEvent[] = [];
  const klk = createKlkClient({
    baseUrl: `${server.url}/`,
    backoffMs: 5,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { klk, events };
}

async function failure(promise: Promise<unknown>): Promise<KlkError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KlkError);
  return error as KlkError;
}

describe('KLK client', () => {
  it('posts the request and streams an answer with meta into the collector', async () => {
    const server = await serve((_req, res) => json(res, { meta: meta(3), ventas: [line(1), line(2), line(3)] }));
    const { klk, events } = client(server);
    const { collector, info } = await klk.fetchVentas(request, () => new Lines());

    expect(collector.lines).toEqual([line(1), line(2), line(3)]);
    expect(info).toMatchObject({ lines: 3, totalRegistros: 3, attempts: 1, meta: { almacen: 'APP-TPF' } });
    expect(info.bytes).toBe(JSON.stringify({ meta: meta(3), ventas: [line(1), line(2), line(3)] }).length + 3 * 1);
    expect(info.durationMs).toBeGreaterThan(0);
    // Whole days go without hours.
    expect(server.requests[0]!.body).toEqual({
      sucursal: 'SUC001',
      fecha_desde: '2026-01-10',
      fecha_hasta: '2026-01-11',
      almacen: 'APP-TPF',
    });
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'succeeded', attempts: 1, lines: 3 })]);
    expect(klk.stats()).toMatchObject({ requests: 1, succeeded: 1, failed: 0, lines: 3, inFlight: 0 });
  });

  it('sends the per-day hour window of a partial day', async () => {
    const server = await serve((_req, res) => json(res, []));
    const { klk } = client(server);
    const window = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '00:00:00', horaHasta: '08:00:59' };
    const { info } = await klk.fetchVentas({ sucursal: 'SUC012', window }, () => new Lines());
    expect(info).toMatchObject({ meta: null, totalRegistros: null, lines: 0, attempts: 1 });
    expect(server.requests[0]!.body).toEqual({
      sucursal: 'SUC012',
      fecha_desde: '2026-01-12',
      fecha_hasta: '2026-01-12',
      hora_desde: '00:00:00',
      hora_hasta: '08:00:59',
    });
  });

  it('accepts a bare list', async () => {
    const server = await serve((_req, res) => json(res, [line(1), line(2)]));
    const { collector, info } = await client(server).klk.fetchVentas(request, () => new Lines());
    expect(collector.lines).toEqual([line(1), line(2)]);
    expect(info).toMatchObject({ meta: null, lines: 2, totalRegistros: null });
  });

  it('retries an error payload served with HTTP 200 and fails with it, never as no sales', async () => {
    const server = await serve((_req, res) => json(res, { error: 'Execution Timeout Expired' }));
    const { klk, events } = client(server);
    const error = await failure(klk.fetchVentas(request, () => new Lines(), { attempts: 3 }));
    expect(error).toMatchObject({ kind: 'error-payload', attempts: 3 });
    expect(error.message).toBe(
      'KLK SUC001/APP-TPF 2026-01-10..2026-01-11: KLK respondió con error: Execution Timeout Expired (3 intentos)',
    );
    expect(server.requests).toHaveLength(3);
    expect(events.map((e) => e.type === 'attempt-failed' && e.retryInMs !== null)).toEqual([true, true, false]);
    expect(klk.stats()).toMatchObject({ requests: 3, retries: 2, failed: 1, succeeded: 0 });
  });

  it('retries a 500 and returns the successful attempt', async () => {
    const server = await serve((_req, res, _body, index) =>
      index === 0 ? json(res, { error: 'boom' }, 500) : json(res, { meta: meta(1), ventas: [line(1)] }),
    );
    const { klk, events } = client(server);
    const { collector, info } = await klk.fetchVentas(request, () => new Lines());
    expect(info.attempts).toBe(2);
    expect(collector.lines).toEqual([line(1)]);
    expect(events[0]).toMatchObject({
      type: 'attempt-failed',
      kind: 'http',
      status: 500,
      message: 'KLK respondió HTTP 500: boom',
    });
  });

  it('gives each attempt a fresh collector, so a half-read answer never counts twice', async () => {
    const full = JSON.stringify({ meta: meta(3), ventas: [line(1), line(2), line(3)] });
    const server = await serve((_req, res, _body, index) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (index === 0) {
        // Two whole lines, then the connection drops.
        res.write(full.slice(0, full.indexOf(JSON.stringify(line(3)))));
        setTimeout(() => res.destroy(), 20);
      } else if (index === 1) {
        res.end(full.slice(0, -2)); // cleanly ended, every line whole, the list never closed
      } else {
        res.end(full);
      }
    });
    const collectors: Lines[] = [];
    const { klk, events } = client(server);
    const { collector, info } = await klk.fetchVentas(request, () => {
      collectors.push(new Lines());
      return collectors.at(-1)!;
    });
    expect(info.attempts).toBe(3);
    expect(collectors.map((c) => c.lines.length)).toEqual([2, 3, 3]);
    expect(collector).toBe(collectors[2]);
    expect(collector.lines).toEqual([line(1), line(2), line(3)]);
    expect(events.slice(0, 2).map((e) => e.type === 'attempt-failed' && e.kind)).toEqual(['truncated', 'truncated']);
  });

  it('fails a body that stays truncated, and one whose total_registros disagrees', async () => {
    const cut = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"meta":{},"ventas":[{"linea":1},');
    });
    expect(await failure(client(cut).klk.fetchVentas(request, () => new Lines(), { attempts: 2 }))).toMatchObject({
      kind: 'truncated',
      attempts: 2,
    });
    const short = await serve((_req, res) => json(res, { meta: meta(5), ventas: [line(1)] }));
    const error = await failure(client(short).klk.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(error).toMatchObject({ kind: 'truncated', attempts: 2 });
    expect(error.message).toMatch(/anunció 5 líneas .* llegaron 1/);
  });

  it('retries invalid JSON and fails with invalid-json', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"ventas":[{"linea":1} {"linea":2}]}');
    });
    const error = await failure(client(server).klk.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(error).toMatchObject({ kind: 'invalid-json', attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  it('retries an answer with the ventas key twice and fails with the reason when it persists, never loading part', async () => {
    // The first list agrees with total_registros: only the second key tells the answer is not whole.
    const all = Array.from({ length: 570 }, (_, i) => line(i + 1));
    const twice = `{"meta":${JSON.stringify(meta(270))},"ventas":${JSON.stringify(all.slice(0, 270))},"ventas":${JSON.stringify(all.slice(270))}}`;
    const persistent = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(twice);
    });
    const { klk, events } = client(persistent);
    const error = await failure(klk.fetchVentas(request, () => new Lines(), { attempts: 3 }));
    expect(error).toMatchObject({ kind: 'invalid-json', attempts: 3 });
    expect(error.message).toBe(
      'KLK SUC001/APP-TPF 2026-01-10..2026-01-11: JSON inválido: la clave "ventas" aparece dos veces; no se sabe cuál vale (3 intentos)',
    );
    expect(persistent.requests).toHaveLength(3);
    expect(events.map((e) => e.type === 'attempt-failed' && e.retryInMs !== null)).toEqual([true, true, false]);
    expect(klk.stats()).toMatchObject({ succeeded: 0, failed: 1, lines: 0 });

    const healed = await serve((_req, res, _body, index) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(index === 0 ? twice : JSON.stringify({ meta: meta(570), ventas: all }));
    });
    const { collector, info } = await client(healed).klk.fetchVentas(request, () => new Lines());
    expect(info).toMatchObject({ attempts: 2, lines: 570, totalRegistros: 570 });
    expect(collector.lines).toEqual(all);
  });

  it('retries an answer whose meta answers another request, and fails with the contradiction when it persists', async () => {
    // Another store's day, with lines that look fine: only meta tells them apart.
    const other = { ...meta(2), sucursal_codigo: 'SUC002' };
    const persistent = await serve((_req, res) => json(res, { meta: other, ventas: [line(1), line(2)] }));
    const error = await failure(client(persistent).klk.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(error).toMatchObject({ kind: 'meta-mismatch', attempts: 2 });
    expect(error.message).toBe(
      'KLK SUC001/APP-TPF 2026-01-10..2026-01-11: la respuesta de KLK no corresponde a la petición: meta.sucursal_codigo es "SUC002" y se pidió "SUC001" (2 intentos)',
    );

    const healed = await serve((_req, res, _body, index) =>
      json(res, index === 0 ? { meta: { ...meta(0), almacen: '' }, ventas: [] } : { meta: meta(1), ventas: [line(1)] }),
    );
    const { collector, info } = await client(healed).klk.fetchVentas(request, () => new Lines());
    expect(info).toMatchObject({ attempts: 2, lines: 1, meta: { almacen: 'APP-TPF' } });
    expect(collector.lines).toEqual([line(1)]);
  });

  it('does not retry an answer of the wrong shape', async () => {
    const server = await serve((_req, res) => json(res, { datos: [] }));
    const error = await failure(client(server).klk.fetchVentas(request, () => new Lines()));
    expect(error).toMatchObject({ kind: 'invalid-answer', attempts: 1 });
  });

  it('does not retry a 400: the request itself is wrong', async () => {
    const server = await serve((_req, res) => json(res, { error: 'fecha_desde inválida' }, 400));
    const error = await failure(client(server).klk.fetchVentas(request, () => new Lines()));
    expect(error).toMatchObject({ kind: 'http', status: 400, attempts: 1 });
    expect(error.message).toBe(
      'KLK SUC001/APP-TPF 2026-01-10..2026-01-11: KLK respondió HTTP 400: fecha_desde inválida',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 429', async () => {
    const server = await serve((_req, res, _body, index) => {
      if (index === 0) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
      } else {
        json(res, []);
      }
    });
    expect((await client(server).klk.fetchVentas(request, () => new Lines())).info.attempts).toBe(2);
  });

  it('times out a request that does not answer, or stalls in the middle of its body', async () => {
    const silent = await serve(() => {});
    const quick = client(silent, { timeoutMs: 100 }).klk;
    const error = await failure(quick.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(error).toMatchObject({ kind: 'timeout', attempts: 2 });
    expect(error.message).toMatch(/no respondió completo en 0,1 s/);

    const stalled = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"ventas":[{"linea":1},');
    });
    const stalledClient = client(stalled, { timeoutMs: 100 }).klk;
    const midBody = await failure(stalledClient.fetchVentas(request, () => new Lines(), { attempts: 1 }));
    expect(midBody.kind).toBe('timeout');
  });

  it("takes a gateway's 504 for a timeout, so a multi-day request can be split instead of asked again whole", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(504, { 'content-type': 'text/plain' });
      res.end('504 Gateway Time-out');
    });
    const { klk } = client(server);
    const error = await failure(klk.fetchVentas(request, () => new Lines(), { retryTimeouts: false }));
    expect(error).toMatchObject({ kind: 'timeout', status: 504, attempts: 1 });
    expect(error.message).toContain('HTTP 504');
    expect(server.requests).toHaveLength(1);
  });

  it('leaves a timeout to the caller when retryTimeouts is false', async () => {
    const server = await serve(() => {});
    const { klk, events } = client(server, { timeoutMs: 100 });
    const error = await failure(klk.fetchVentas(request, () => new Lines(), { retryTimeouts: false }));
    expect(error).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ type: 'attempt-failed', kind: 'timeout', retryInMs: null })]);
  });

  it('retries network failures', async () => {
    const server = await serve(() => {});
    const url = server.url;
    await servers.pop()!(); // nothing listens there any more
    const klk = createKlkClient({ baseUrl: url, backoffMs: 1 });
    const error = await failure(klk.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(error).toMatchObject({ kind: 'network', attempts: 2 });
    expect(error.message).toMatch(/no se pudo conectar con KLK en http:\/\/127\.0\.0\.1:\d+\/ventas \(ECONNREFUSED\)/);
  });

  it('says when KLK starts answering, before its body has arrived, and on an error status too', async () => {
    const seen: string[] = [];
    let responded!: () => void;
    const response = new Promise<void>((resolve) => (responded = resolve));
    const server = await serve((_req, res, _body, index) => {
      if (index === 0) return json(res, { error: 'ocupado' }, 500);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ventas":[');
      // The rest of the body once the client has said KLK answered (or after a second, so a client that waits for
      // the whole body fails on the order instead of hanging).
      void Promise.race([response, new Promise((resolve) => setTimeout(resolve, 1_000))]).then(() => {
        seen.push('body ended');
        res.end(`${JSON.stringify(line(1))}]}`);
      });
    });
    const result = await client(server).klk.fetchVentas(request, () => new Lines(), {
      onResponse: () => {
        seen.push(`response ${server.requests.length}`);
        if (server.requests.length === 2) responded();
      },
    });
    expect(result.collector.lines).toHaveLength(1);
    expect(seen).toEqual(['response 1', 'response 2', 'body ended']);
  });

  it('keeps at most `concurrency` requests in flight across callers, body reads included', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ventas":[');
      setTimeout(() => res.end(`${JSON.stringify(line(1))}]}`), 40);
    });
    const { klk } = client(server, { concurrency: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => klk.fetchVentas(request, () => new Lines())));
    expect(results.map((r) => r.collector.lines.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(server.maxInFlight).toBe(2);
    expect(klk.stats()).toMatchObject({ requests: 6, maxInFlight: 2, inFlight: 0, waiting: 0 });
  });

  it('keeps no answer once it is handed over, while its queue stays busy', async () => {
    // p-queue keeps a finished task until its queue empties or compacts: a client that never idles (a backfill) held
    // up to 100 answers that way, a gigabyte at KLK's volumes.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const server = await serve((_req, res) => json(res, { ventas: [line(1)] }));
    const { klk } = client(server, { concurrency: 1 });
    // The second request waits in the queue (the first starts at once) and leaves it with eight behind it.
    let second: WeakRef<Lines> | undefined;
    const all = Array.from({ length: 10 }, (_, i) =>
      klk
        .fetchVentas(request, () => new Lines())
        .then(({ collector }) => {
          if (i === 1) second = new WeakRef(collector);
        }),
    );
    await all[1];
    expect(klk.stats().waiting).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(second!.deref()).toBeUndefined();
    await Promise.all(all);
  });

  it('frees its slot while waiting to retry', async () => {
    const server = await serve((_req, res, body, index) =>
      index === 0 ? json(res, { error: 'ocupado' }, 503) : json(res, [{ sucursal: body.sucursal }]),
    );
    const { klk } = client(server, { concurrency: 1, backoffMs: 50 });
    const done: string[] = [];
    const fetchFor = (sucursal: string) =>
      klk.fetchVentas({ ...request, sucursal }, () => new Lines()).then(() => done.push(sucursal));
    await Promise.all([fetchFor('SUC001'), fetchFor('SUC002')]);
    expect(server.requests.map((r) => r.body.sucursal)).toEqual(['SUC001', 'SUC002', 'SUC001']);
    expect(done).toEqual(['SUC002', 'SUC001']);
  });

  it('serves callers waiting for a slot first come, first served; one that gives up leaves the queue unsent', async () => {
    const held: ServerResponse[] = [];
    let arrived: () => void = () => {};
    const server = await serve((_req, res, body) => {
      if (body.sucursal === 'SUC001') {
        held.push(res);
        arrived();
      } else {
        json(res, [{ sucursal: body.sucursal }]);
      }
    });
    const { klk } = client(server, { concurrency: 1 });
    const firstIn = new Promise<void>((resolve) => (arrived = resolve));
    const first = klk.fetchVentas(request, () => new Lines());
    await firstIn;
    const quitter = new AbortController();
    const calls = ['SUC002', 'SUC003', 'SUC004', 'SUC005'].map((sucursal) =>
      klk.fetchVentas(
        { ...request, sucursal },
        () => new Lines(),
        sucursal === 'SUC003' ? { signal: quitter.signal } : {},
      ),
    );
    expect(klk.stats()).toMatchObject({ inFlight: 1, waiting: 4 });
    quitter.abort(new Error('ya no hace falta'));
    await expect(calls[1]).rejects.toThrow('ya no hace falta');
    expect(klk.stats()).toMatchObject({ inFlight: 1, waiting: 3 });
    json(held[0]!, []);
    await Promise.all([first, calls[0], calls[2], calls[3]]);
    expect(server.requests.map((r) => r.body.sucursal)).toEqual(['SUC001', 'SUC002', 'SUC004', 'SUC005']);
    expect(klk.stats()).toMatchObject({ requests: 4, maxInFlight: 1, inFlight: 0, waiting: 0 });
  });

  it('stops waiting to retry when the caller aborts, without asking again', async () => {
    // KLK asks for an hour's pause: only the abort can end it within the test.
    const server = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': '3600' });
      res.end();
    });
    const stop = new AbortController();
    const events: KlkEvent[] = [];
    const klk = createKlkClient({
      baseUrl: server.url,
      maxBackoffMs: 3_600_000,
      onEvent: (event) => {
        events.push(event);
        stop.abort(new Error('cancelado por el usuario'));
      },
    });
    const pending = klk.fetchVentas(request, () => new Lines(), { signal: stop.signal });
    await expect(pending).rejects.toThrow('cancelado por el usuario');
    expect(events).toEqual([expect.objectContaining({ type: 'attempt-failed', status: 503, retryInMs: 3_600_000 })]);
    expect(server.requests).toHaveLength(1);
    expect(klk.stats()).toMatchObject({ requests: 1, retries: 1, inFlight: 0, waiting: 0 });
  });

  it('sends the token as a bearer header and never shows it in errors or events', async () => {
    const token = 's3cr3t-T0KEN';
    const server = await serve((req, res) =>
      json(res, { error: `token rechazado: ${req.headers.authorization}` }, 401),
    );
    const { klk, events } = client(server, { token });
    const error = await failure(klk.fetchVentas(request, () => new Lines()));
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(error.message).toContain('token rechazado: Bearer ***');
    const shown = [error.message, String(error.stack), JSON.stringify(error), JSON.stringify(events)].join('\n');
    expect(shown).not.toContain(token);

    const echoing = await serve((req, res) => json(res, { error: String(req.headers.authorization) }));
    const echoed = client(echoing, { token });
    const payloadError = await failure(echoed.klk.fetchVentas(request, () => new Lines(), { attempts: 2 }));
    expect(payloadError.kind).toBe('error-payload');
    expect([payloadError.message, JSON.stringify(echoed.events)].join('\n')).not.toContain(token);
  });

  it('passes the caller abort and collector errors through without retrying', async () => {
    // The caller gives up once KLK has the request (an event, not a delay: under load 30 ms could come first).
    const controller = new AbortController();
    const silent = await serve(() => controller.abort(new Error('cancelado por el usuario')));
    const pending = client(silent).klk.fetchVentas(request, () => new Lines(), { signal: controller.signal });
    await expect(pending).rejects.toThrow('cancelado por el usuario');
    expect(silent.requests).toHaveLength(1);

    const server = await serve((_req, res) => json(res, [line(1)]));
    const failing = {
      add: () => {
        throw new RangeError('colector lleno');
      },
    };
    await expect(client(server).klk.fetchVentas(request, () => failing)).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(1);
  });

  it('streams a 100,000-line answer without losing a line', async () => {
    const total = 100_000;
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"meta":${JSON.stringify(meta(total))},"ventas":[`);
      let n = 0;
      const writeSome = () => {
        while (n < total) {
          const batch: string[] = [];
          for (const end = Math.min(total, n + 500); n < end;) batch.push(JSON.stringify(line(++n)));
          const more = res.write((n > 500 ? ',' : '') + batch.join(','));
          if (!more) return void res.once('drain', writeSome);
        }
        res.end(']}');
      };
      writeSome();
    });
    let count = 0;
    let sum = 0;
    const counter = {
      add(value: unknown) {
        count++;
        sum += (value as { linea: number }).linea;
      },
    };
    const { info } = await client(server).klk.fetchVentas(request, () => counter);
    expect(info).toMatchObject({ lines: total, totalRegistros: total, attempts: 1 });
    expect(count).toBe(total);
    expect(sum).toBe((total * (total + 1)) / 2);
  });
});
