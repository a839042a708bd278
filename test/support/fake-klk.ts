/**
 * Test support: a KLK client that answers from the test, so each way a request can end is produced exactly (the
 * simulator makes them by chance or by timing).
 */
import type { AnswerInfo, FetchOptions, KlkClient, KlkRequest, KlkStats } from '../../src/klk/index.ts';

/** What the fake KLK does with a request: answers these lines (with this info), or throws. */
export type Reply = { lines: unknown[]; info?: Partial<AnswerInfo> };

/** A client's counters, all zero but those given. */
export function klkStats(given: Partial<KlkStats> = {}): KlkStats {
  return {
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    waiting: 0,
    retries: 0,
    succeeded: 0,
    failed: 0,
    lines: 0,
    bytes: 0,
    ...given,
  };
}

export interface FakeKlk extends KlkClient {
  calls: Array<{ request: KlkRequest; options: FetchOptions }>;
}

export function fakeKlk(reply: (request: KlkRequest, options: FetchOptions) => Reply | Promise<Reply>): FakeKlk {
  const calls: FakeKlk['calls'] = [];
  return {
    calls,
    async fetchVentas(request, newCollector, options = {}) {
      calls.push({ request, options });
      const { lines, info } = await reply(request, options);
      const collector = newCollector();
      for (const line of lines) collector.add(line, true);
      return {
        collector,
        info: {
          meta: null,
          proven: false,
          lines: lines.length,
          totalRegistros: null,
          attempts: 1,
          durationMs: 7,
          elapsedMs: 9,
          bytes: 0,
          ...info,
        },
      };
    },
    stats: () => klkStats({ requests: calls.length, maxInFlight: 1 }),
  };
}
