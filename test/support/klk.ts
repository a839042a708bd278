import { createServer } from 'node:net';
import type { KlkClient } from '../../src/klk/index.ts';

/** A port nothing listens on: connections to it are refused. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The same client, calling `onAnswer` once KLK has answered a request: a test's signal lands on that event rather
 * than on a progress report (progress is only reported now and then) or a moment.
 */
export function onFirstAnswer(klk: KlkClient, onAnswer: () => void): KlkClient {
  return {
    stats: () => klk.stats(),
    fetchVentas: async (request, newCollector, options) => {
      const answer = await klk.fetchVentas(request, newCollector, options);
      onAnswer();
      return answer;
    },
  };
}
