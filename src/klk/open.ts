import type { Config } from '../catalogue/config.ts';
import { env } from '../shared/env.ts';
import type { Logger } from '../shared/logger.ts';
import { createKlkClient, type KlkClient, type KlkEvent } from './client.ts';

/** The KLK client as configured (timeouts, attempts, KLK_API_TOKEN), its events in the log (and to `onEvent`). */
export function openKlk(
  config: Config,
  options: { baseUrl: string; concurrency: number; logger: Logger; onEvent?: (event: KlkEvent) => void },
): KlkClient {
  return createKlkClient({
    baseUrl: options.baseUrl,
    token: env().KLK_API_TOKEN,
    timeoutMs: config.klk.timeoutMs,
    attempts: config.klk.attempts,
    concurrency: options.concurrency,
    onEvent: (event: KlkEvent) => {
      options.onEvent?.(event);
      if (event.type === 'succeeded') options.logger.debug({ klk: event }, 'respuesta de KLK');
      else options.logger.warn({ klk: event }, 'intento fallido contra KLK');
    },
  });
}

/**
 * The KLK client of a backfill: at most two tries inside a request (the configured attempts are the ETL's), since
 * the ledger retries each chunk with a growing pause and the breaker pauses a failing KLK.
 */
export function openBackfillKlk(
  config: Config,
  options: { baseUrl: string; concurrency: number; logger: Logger },
): KlkClient {
  return openKlk({ ...config, klk: { ...config.klk, attempts: Math.min(config.klk.attempts, 2) } }, options);
}
