/**
 * The KLK client: `POST {base}/ventas` on Node's fetch, with a per-request timeout that covers the whole body, retries
 * with exponential backoff and full jitter, and a limit of requests in flight shared by every caller of one client
 * (a p-queue: first come, first served). A failure is always an error (KlkError), never an empty answer.
 *
 * The retry loop is ours, not cockatiel's `retry` policy: that policy waits out its backoff on a timer no signal
 * reaches (RetryPolicy.execute in cockatiel 3.2), so a Ctrl-C during a 30-second pause would wait for it; here the
 * pause ends with the caller's signal (tested: "stops waiting to retry when the caller aborts"). Its delays are
 * cockatiel's full-jitter schedule.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { fullJitterGenerator } from 'cockatiel';
import PQueue from 'p-queue';
import { AnswerError, readAnswer } from './answer.ts';
import { checkEcho } from './meta.ts';
import type { KlkMeta } from './schema.ts';
import { KLK_DEFAULTS } from './defaults.ts';
import { describeWindow, type KlkWindow } from './windows.ts';
import { decimal, int } from '../shared/format.ts';
import { redactUrl } from '../shared/redact.ts';

export type KlkRequest = { sucursal: string; almacen?: string; window: KlkWindow };

export type KlkErrorKind =
  'http' | 'timeout' | 'network' | 'error-payload' | 'truncated' | 'invalid-json' | 'invalid-answer' | 'meta-mismatch';

/** A request that failed for good (after its retries, or at once when retrying cannot help). */
export class KlkError extends Error {
  override name = 'KlkError';
  constructor(
    readonly kind: KlkErrorKind,
    message: string,
    /** Attempts made, the failed last one included. */
    readonly attempts: number,
    /** HTTP status, for kind `http`. */
    readonly status?: number,
  ) {
    super(message);
  }

  /** KLK itself sent an answer (an error status, a bad body): it is there, only failing. Not when nothing came back. */
  get answered(): boolean {
    return this.status !== undefined || (this.kind !== 'network' && this.kind !== 'timeout');
  }
}

export type AnswerInfo = {
  /** null for a bare list (or an object answer without meta); when present it never contradicts the request. */
  meta: KlkMeta | null;
  /**
   * The answer proved itself whole: its `meta` echoes every filter of the request and its `total_registros` equals
   * the lines received, so a day without lines in it is a day KLK has no sales of. Otherwise lines prove
   * themselves but no day is proven empty.
   */
  proven: boolean;
  /** Lines handed to the collector by the successful attempt. */
  lines: number;
  totalRegistros: number | null;
  attempts: number;
  /** The successful attempt, from sending the request to the end of its body (no queueing, no backoff). */
  durationMs: number;
  /** From the call to its return: queueing, failed attempts and backoff included. */
  elapsedMs: number;
  /** Body bytes of the successful attempt. */
  bytes: number;
};

type RequestSummary = { sucursal: string; almacen?: string; window: KlkWindow };

export type KlkEvent =
  | {
      type: 'attempt-failed';
      request: RequestSummary;
      attempt: number;
      kind: KlkErrorKind;
      status?: number;
      message: string;
      /** Backoff before the next attempt, or null when this was the last one. */
      retryInMs: number | null;
    }
  | {
      type: 'succeeded';
      request: RequestSummary;
      attempts: number;
      lines: number;
      bytes: number;
      durationMs: number;
    };

export type KlkClientOptions = {
  baseUrl: string;
  /** Sent as `Authorization: Bearer TOKEN`; never shown in messages or events. */
  token?: string;
  /** Per attempt, headers and whole body included. */
  timeoutMs?: number;
  attempts?: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxBackoffMs, backoffMs * 2^(n-1))). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** HTTP requests in flight (body read included), shared by all callers of this client. */
  concurrency?: number;
  onEvent?: (event: KlkEvent) => void;
};

export type FetchOptions = {
  signal?: AbortSignal;
  attempts?: number;
  /** false: a timeout fails at once, so the caller can split a multi-day window instead of asking it again. */
  retryTimeouts?: boolean;
  /** Called when KLK's status line arrives, before the body is read: KLK is answering, however long the body takes. */
  onResponse?: () => void;
};

export type KlkStats = {
  /** HTTP attempts started. */
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Calls waiting for a free slot. */
  waiting: number;
  retries: number;
  succeeded: number;
  failed: number;
  lines: number;
  bytes: number;
};

/** Takes an answer's lines as they arrive; `escaped`: whether the line's JSON text had a backslash escape. */
export interface LineCollector {
  add(line: unknown, escaped: boolean): void;
}

export interface KlkClient {
  /**
   * Fetches one request's lines into a collector. Each attempt gets a fresh collector, so a retry after a
   * half-read answer never counts a line twice; the successful attempt's collector is returned.
   * Throws KlkError when it fails for good, or the signal's reason when the caller aborts.
   */
  fetchVentas<C extends LineCollector>(
    request: KlkRequest,
    newCollector: () => C,
    options?: FetchOptions,
  ): Promise<{ collector: C; info: AnswerInfo }>;
  stats(): KlkStats;
}

/** One failed attempt, before deciding whether to retry. */
class AttemptFailure extends Error {
  constructor(
    readonly kind: KlkErrorKind,
    message: string,
    readonly status?: number,
    /** From a Retry-After header. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Wraps what the caller's collector threw, so it passes through untouched instead of being taken for a KLK fault. */
class CollectorFailure {
  constructor(readonly error: unknown) {}
}

// A meta that contradicts the request is KLK (or a proxy) answering another question: worth asking again.
const RETRYABLE = new Set<KlkErrorKind>([
  'timeout',
  'network',
  'error-payload',
  'truncated',
  'invalid-json',
  'meta-mismatch',
]);
const MAX_DETAIL = 300;

export function createKlkClient(options: KlkClientOptions): KlkClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/ventas`;
  // What messages (and so the run history) say of it: never a credential it carries.
  const shownUrl = redactUrl(url);
  const timeoutMs = options.timeoutMs ?? KLK_DEFAULTS.timeoutMs;
  const defaultAttempts = options.attempts ?? KLK_DEFAULTS.attempts;
  const concurrency = options.concurrency ?? KLK_DEFAULTS.concurrency;
  const jitter = {
    generator: fullJitterGenerator,
    initialDelay: options.backoffMs ?? 1_000,
    maxDelay: options.maxBackoffMs ?? 30_000,
    exponent: 2,
  };
  const token = options.token || undefined;
  const counters = { requests: 0, maxInFlight: 0, retries: 0, succeeded: 0, failed: 0, lines: 0, bytes: 0 };
  for (const [name, value] of Object.entries({ timeoutMs, attempts: defaultAttempts, concurrency })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} debe ser un entero positivo: ${value}`);
  }
  // One slot per HTTP attempt, body read included; a call waiting to retry holds none.
  const slots = new PQueue({ concurrency });

  const redact = (text: string) => (token ? text.split(token).join('***') : text);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;

  async function attempt<C extends LineCollector>(
    request: KlkRequest,
    newCollector: () => C,
    signal: AbortSignal | undefined,
    onResponse: (() => void) | undefined,
  ): Promise<{ collector: C; info: Omit<AnswerInfo, 'attempts' | 'elapsedMs'> }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const started = performance.now();
    let bodyStarted = false;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(requestBody(request)),
        signal: controller.signal,
      });
      onResponse?.();
      if (!response.ok) {
        const detail = await errorDetail(response);
        // A gateway that gave up waiting (504) or a server that did (408) is a timeout: the caller may split.
        const gaveUp = response.status === 504 || response.status === 408;
        throw new AttemptFailure(
          gaveUp ? 'timeout' : 'http',
          `KLK respondió HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
          response.status,
          retryAfterMs(response.headers.get('retry-after')),
        );
      }
      if (!response.body) throw new AttemptFailure('truncated', 'KLK respondió sin cuerpo');
      bodyStarted = true;
      const collector = newCollector();
      const answer = await readAnswer(response.body, (line, escaped) => {
        try {
          collector.add(line, escaped);
        } catch (error) {
          throw new CollectorFailure(error);
        }
      });
      const echo = answer.meta ? checkEcho(answer.meta, request) : null;
      if (echo?.contradiction)
        throw new AttemptFailure(
          'meta-mismatch',
          `la respuesta de KLK no corresponde a la petición: ${echo.contradiction}`,
        );
      return {
        collector,
        info: {
          meta: answer.meta,
          proven: echo?.complete ?? false,
          lines: answer.lines,
          totalRegistros: answer.meta?.total_registros ?? null,
          durationMs: performance.now() - started,
          bytes: answer.bytes,
        },
      };
    } catch (error) {
      if (error instanceof CollectorFailure || error instanceof AttemptFailure) throw error;
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new AttemptFailure('timeout', `KLK no respondió completo en ${formatSeconds(timeoutMs)}`);
      if (error instanceof AnswerError) throw new AttemptFailure(error.kind, error.message);
      const code = causeCode(error);
      // Undici's own header/body timeouts (300 s) can come first when timeoutMs is set higher.
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new AttemptFailure('timeout', `KLK no respondió a tiempo (${code})`);
      }
      if (bodyStarted) {
        throw new AttemptFailure('truncated', `la conexión se cortó mientras llegaba la respuesta (${code})`);
      }
      throw new AttemptFailure('network', `no se pudo conectar con KLK en ${shownUrl} (${code})`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function fetchVentas<C extends LineCollector>(
    request: KlkRequest,
    newCollector: () => C,
    fetchOptions: FetchOptions = {},
  ): Promise<{ collector: C; info: AnswerInfo }> {
    const { signal, retryTimeouts = true } = fetchOptions;
    const maxAttempts = fetchOptions.attempts ?? defaultAttempts;
    const summary: RequestSummary = { sucursal: request.sucursal, almacen: request.almacen, window: request.window };
    const called = performance.now();
    for (let n = 1; ; n++) {
      let failure: AttemptFailure;
      try {
        // Rejects with the signal's reason when aborted while waiting for its slot; aborted while in flight, the attempt
        // gives its slot back at once, its request being torn down.
        // The answer is handed over beside the queue, not through it: p-queue keeps a finished task, and so what it
        // resolved with, until its queue empties or compacts (100 tasks), and a busy client would hold that many answers.
        const handOver: { answer?: Awaited<ReturnType<typeof attempt<C>>> } = {};
        await slots.add(
          async () => {
            counters.requests++;
            counters.maxInFlight = Math.max(counters.maxInFlight, slots.pending);
            handOver.answer = await attempt(request, newCollector, signal, fetchOptions.onResponse);
          },
          { signal },
        );
        const { collector, info } = handOver.answer!;
        delete handOver.answer;
        counters.succeeded++;
        counters.lines += info.lines;
        counters.bytes += info.bytes;
        const { lines, bytes, durationMs } = info;
        options.onEvent?.({ type: 'succeeded', request: summary, attempts: n, lines, bytes, durationMs });
        return { collector, info: { ...info, attempts: n, elapsedMs: performance.now() - called } };
      } catch (error) {
        if (error instanceof CollectorFailure) throw error.error;
        if (!(error instanceof AttemptFailure)) throw error;
        failure = error;
      }

      const message = redact(failure.message);
      const retryable =
        n < maxAttempts &&
        (failure.kind === 'http'
          ? failure.status! >= 500 || failure.status === 429
          : RETRYABLE.has(failure.kind) && (failure.kind !== 'timeout' || retryTimeouts));
      const pause = retryable ? backoff(n, failure.retryAfterMs) : null;
      options.onEvent?.({
        type: 'attempt-failed',
        request: summary,
        attempt: n,
        kind: failure.kind,
        status: failure.status,
        message,
        retryInMs: pause,
      });
      if (pause === null) {
        counters.failed++;
        const store = request.almacen ? `${request.sucursal}/${request.almacen}` : request.sucursal;
        const where = `${store} ${describeWindow(request.window)}`;
        const tries = n > 1 ? ` (${n} intentos)` : '';
        throw new KlkError(failure.kind, `KLK ${where}: ${message}${tries}`, n, failure.status);
      }
      counters.retries++;
      try {
        await delay(pause, undefined, { signal });
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
    }
  }

  /** Before attempt n + 1: random in [0, min(maxBackoffMs, backoffMs x 2^(n-1))), at least Retry-After (capped). */
  function backoff(attempt: number, retryAfter: number | undefined): number {
    const [random] = fullJitterGenerator(attempt - 1, jitter);
    return retryAfter === undefined ? random : Math.max(random, Math.min(retryAfter, jitter.maxDelay));
  }

  return {
    fetchVentas,
    stats: () => ({
      requests: counters.requests,
      inFlight: slots.pending,
      maxInFlight: counters.maxInFlight,
      waiting: slots.size,
      retries: counters.retries,
      succeeded: counters.succeeded,
      failed: counters.failed,
      lines: counters.lines,
      bytes: counters.bytes,
    }),
  };
}

function requestBody(request: KlkRequest): Record<string, string> {
  const { window } = request;
  return {
    sucursal: request.sucursal,
    fecha_desde: window.fechaDesde,
    fecha_hasta: window.fechaHasta,
    ...(window.horaDesde !== undefined && { hora_desde: window.horaDesde }),
    ...(window.horaHasta !== undefined && { hora_hasta: window.horaHasta }),
    ...(request.almacen !== undefined && { almacen: request.almacen }),
  };
}

/** The start of an error answer: its `error` field when it has one, else its text. Never throws. */
async function errorDetail(response: Response): Promise<string> {
  let text = '';
  try {
    const reader = response.body?.getReader();
    if (reader) {
      const decoder = new TextDecoder();
      while (text.length < 2_000) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
    }
  } catch {
    // what arrived is enough to describe the failure
  }
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (error !== undefined) text = typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    // not JSON: keep the text
  }
  return text.trim().slice(0, MAX_DETAIL);
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/** The most telling code of a fetch failure: `ECONNREFUSED`, `UND_ERR_SOCKET`... */
function causeCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current.cause === undefined) return current.message;
    current = current.cause;
  }
  return String(current);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${int(ms / 1000)} s` : `${decimal(ms / 1000)} s`;
}
