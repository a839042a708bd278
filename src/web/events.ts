/**
 * `GET /api/runs/ID/events`: a backfill's progress as server-sent events (`progress`, `breaker`, `done`), pushed as it
 * happens for the backfill this server runs, polled from the ledger for one run by another process. A stream ends
 * after `done`, when its client leaves, or when the server stops.
 */
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Logger } from '../shared/logger.ts';
import { isFinished, type BackfillState } from '../runs/history.ts';
import type { NodeEnv } from './http.ts';
import type { BackfillRunner, RunEvent } from './runner.ts';

const HEARTBEAT_MS = 15_000;
/** How often a backfill run by another process is read from the ledger for its events. */
const POLL_MS = 1_000;

export interface RunStreamDeps {
  runner: BackfillRunner;
  /** The run's state now: live from the runner, else from the ledger. */
  state(id: number): Promise<BackfillState>;
  logger: Logger;
}

interface OpenStream {
  end(): void;
  /** Resolves once its response is out and closed. */
  closed: Promise<void>;
}

export class RunEventStreams {
  private readonly open = new Set<OpenStream>();

  constructor(private readonly deps: RunStreamDeps) {}

  /** The stream of run `id`, whose state `first` the caller has read (an unknown run is a 404, not a stream). */
  respond(c: Context<NodeEnv>, id: number, first: BackfillState): Response {
    const { outgoing } = c.env;
    const closed = new Promise<void>((resolve) => outgoing.once('close', () => resolve()));
    const res = streamSSE(c, (stream) => this.follow(stream, id, first, closed));
    // Never stored by a cache or buffered by a proxy: each event is news.
    res.headers.set('Content-Type', 'text/event-stream; charset=utf-8');
    res.headers.set('Cache-Control', 'no-store');
    res.headers.set('X-Accel-Buffering', 'no');
    return res;
  }

  /** Ends every open stream (each gets no more events; EventSource will find the server gone) and waits for them. */
  async endAll(): Promise<void> {
    const open = [...this.open];
    open.forEach((stream) => stream.end());
    await Promise.all(open.map((stream) => stream.closed));
  }

  private async follow(
    stream: SSEStreamingApi,
    id: number,
    first: BackfillState,
    closed: Promise<void>,
  ): Promise<void> {
    let open = true;
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const end = () => {
      open = false;
      resolveEnded();
    };
    // One write at a time, in order: `done` must be out before the stream closes.
    let writing = Promise.resolve();
    const write = (put: () => Promise<unknown>) => {
      if (open) writing = writing.then(put).then(() => {});
    };
    const send = (event: RunEvent) =>
      write(() => stream.writeSSE({ event: event.type, data: JSON.stringify(event.data) }));
    const stops: Array<() => void> = [];
    const entry = { end, closed };
    this.open.add(entry);
    stream.onAbort(end);
    write(() => stream.write('retry: 2000\n\n'));
    const heartbeat = setInterval(() => write(() => stream.write(': sigue\n\n')), HEARTBEAT_MS);
    stops.push(() => clearInterval(heartbeat));

    if (isFinished(first)) {
      send({ type: 'done', data: first });
      end();
    } else {
      send({ type: 'progress', data: first });
      const unsubscribe = this.deps.runner.subscribe(id, (event) => {
        send(event);
        if (event.type === 'done') end();
      });
      stops.push(unsubscribe ?? this.poll(id, first, send, end));
    }
    await ended;
    stops.forEach((stop) => stop());
    this.open.delete(entry);
    await writing;
  }

  /** Follows a run by another process through the ledger; returns how to stop. */
  private poll(id: number, first: BackfillState, send: (event: RunEvent) => void, end: () => void): () => void {
    let last = JSON.stringify(first);
    let polling = false;
    const timer = setInterval(async () => {
      if (polling) return;
      polling = true;
      try {
        const state = await this.deps.state(id);
        if (isFinished(state)) {
          send({ type: 'done', data: state });
          return end();
        }
        if (JSON.stringify(state) !== last) send({ type: 'progress', data: state });
        last = JSON.stringify(state);
      } catch (error) {
        this.deps.logger.warn({ err: error, backfillId: id }, 'no se pudo leer el progreso del backfill');
      } finally {
        polling = false;
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }
}
