import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between `ventas` and PostgreSQL that a test can cut, as a server that goes away would: stop() resets
 * every open connection and then refuses new ones, start() relays again on the same port. The shared PostgreSQL
 * itself is never touched.
 */
export interface PgProxy {
  /** `url` with its host and port replaced by the relay's. */
  url: string;
  /** Connections tried while stopped in `reset` mode (each one reset at once): a test waits on them. */
  readonly rejected: number;
  /**
   * Every open connection reset; then new ones `refuse`d (nothing listens: ECONNREFUSED, as after a server stopped),
   * or accepted and `reset` at once (counted in `rejected`, so a test can tell when a client tried again).
   */
  stop(mode?: 'refuse' | 'reset'): Promise<void>;
  /** Relaying again. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(url: string): Promise<PgProxy> {
  const target = new URL(url);
  const upstream = { host: target.hostname, port: Number(target.port || 5432) };
  const pairs = new Set<[Socket, Socket]>();
  let relaying = true;
  let rejected = 0;
  let server: Server | null = null;
  let port = 0;

  const relay = (client: Socket) => {
    if (!relaying) {
      rejected++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstreamSocket = connect(upstream);
    const pair: [Socket, Socket] = [client, upstreamSocket];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstreamSocket.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstreamSocket.on('error', drop).on('close', drop);
    client.pipe(upstreamSocket);
    upstreamSocket.pipe(client);
  };

  const listen = async () => {
    const s = createServer(relay);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const unlisten = async () => {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const stop = async (mode: 'refuse' | 'reset' = 'refuse') => {
    relaying = false;
    // A reset, not a polite close: what a client sees when the server process dies under it.
    for (const [client, upstreamSocket] of pairs) {
      client.resetAndDestroy();
      upstreamSocket.destroy();
    }
    pairs.clear();
    if (mode === 'refuse') await unlisten();
  };

  await listen();
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return {
    url: relayed.toString(),
    get rejected() {
      return rejected;
    },
    stop,
    async start() {
      relaying = true;
      if (!server) await listen();
    },
    async close() {
      await stop();
    },
  };
}
