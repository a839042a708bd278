import type { AddressInfo } from 'node:net';
import { DEFAULT_OPTIONS, type SimOptions } from './options.ts';
import { createSimServer, type SimStats } from './server.ts';

export {
  generateDay,
  truthDays,
  plannedLines,
  storeBaseLines,
  storeBySucursal,
  exchangeRateC,
  secondWarehouse,
  SALES_FLOOR_NAME,
  SECOND_WAREHOUSE_NAME,
} from './generator.ts';
export type { KlkLine, LineFilter, SimWorld, TruthDay } from './generator.ts';
export { DEFAULT_OPTIONS, parseLatency, parseRate, parseSettings, parseSimNow } from './options.ts';
export type { RuntimeSettings, SimFaults, SimOptions } from './options.ts';
export type { SimStats } from './server.ts';

export interface RunningSimulator {
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string;
  port: number;
  /** The live options: change a fault, `voidRate` or `now` here and the next request sees it. */
  options: SimOptions;
  stats(): SimStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Starts the simulator on node:http; `port: 0` (the default here) takes a free port. */
export async function startSimulator(options: Partial<SimOptions> = {}): Promise<RunningSimulator> {
  const live: SimOptions = { ...DEFAULT_OPTIONS, port: 0, ...options };
  const { server, stats, resetStats } = createSimServer(live);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(live.port, live.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = live.host.includes(':') ? `[${live.host}]` : live.host;
  return {
    url: `http://${host}:${port}`,
    port,
    options: live,
    stats,
    resetStats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hanging and streaming requests would keep the server open for minutes.
        server.closeAllConnections();
      }),
  };
}
