/**
 * The delivery worker: sends the alerts queued in `alert_deliveries` (incidents/store.ts), records each outcome and
 * tries a failed one again later with growing pauses, kept in the table so a restart resumes them. Nothing here
 * throws: a receiver that fails, a channel that hangs or a database that is away is recorded or logged, and the
 * next pass tries again. Channels are sent in parallel, each one's alerts in order.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelay } from '../db/reconnect.ts';
import type { Queryable } from '../db/types.ts';
import {
  claimDeliveries,
  recordDelivered,
  recordFailure,
  type AlertChannel,
  type Delivery,
} from '../incidents/store.ts';
import { now as clockNow } from '../shared/clock.ts';
import { silentLogger, type Logger } from '../shared/logger.ts';
import type { AlertSender } from './channels.ts';

export interface DeliveryOptions {
  /** The `ventas` clock (default: clock.ts's now()). */
  now?: () => Date;
  /** Deliveries taken per pass. */
  limit?: number;
  /** How long a taken delivery is held before another pass may take it again (its sender died). */
  leaseMs?: number;
  /** Pause before the second attempt; each next one doubles (jittered), up to `maxRetryMs`. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** A delivery still failing this long after its alert was issued is given up: the incident's next alert tells. */
  giveUpAfterMs?: number;
  logger?: Logger;
}

export interface DeliveryReport {
  delivered: number;
  /** Failed this pass and queued again. */
  retrying: number;
  gaveUp: number;
  /** Why the pass could not run (the database), or null. */
  error: string | null;
}

export const DELIVERY_DEFAULTS = {
  limit: 50,
  leaseMs: 120_000,
  firstRetryMs: 30_000,
  maxRetryMs: 3_600_000,
  giveUpAfterMs: 86_400_000,
} as const;

/** One pass: sends the deliveries due now. Never rejects. */
export async function deliverDue(
  db: Queryable,
  sender: AlertSender,
  options: DeliveryOptions = {},
): Promise<DeliveryReport> {
  const o = { ...DELIVERY_DEFAULTS, ...options };
  const now = options.now ?? (() => clockNow());
  const logger = options.logger ?? silentLogger;
  const report: DeliveryReport = { delivered: 0, retrying: 0, gaveUp: 0, error: null };
  let due: Delivery[];
  try {
    due = await claimDeliveries(db, { now: now(), channels: sender.channels, limit: o.limit, leaseMs: o.leaseMs });
  } catch (error) {
    report.error = sender.describe(error);
    logger.warn({ err: report.error }, 'no se pudieron leer los avisos pendientes');
    return report;
  }
  const byChannel = new Map<AlertChannel, Delivery[]>();
  for (const d of due) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);

  const deliverOne = async (d: Delivery): Promise<void> => {
    let failure: string | null = null;
    try {
      await sender.send(d, now());
    } catch (error) {
      failure = sender.describe(error);
    }
    const at = now();
    try {
      if (failure === null) {
        await recordDelivered(db, d.id, at);
        report.delivered++;
        logger.info({ delivery: d.id, incident: d.incidentId, event: d.event, channel: d.channel }, 'aviso enviado');
        return;
      }
      const giveUp = at.getTime() - d.createdAt.getTime() >= o.giveUpAfterMs;
      const retryAt = giveUp
        ? null
        : new Date(at.getTime() + backoffDelay(d.attempts - 1, o.firstRetryMs, o.maxRetryMs));
      await recordFailure(db, d.id, { at, error: failure, retryAt });
      if (giveUp) report.gaveUp++;
      else report.retrying++;
      logger.warn(
        { delivery: d.id, incident: d.incidentId, channel: d.channel, attempts: d.attempts, err: failure, retryAt },
        giveUp ? 'aviso abandonado tras reintentar' : 'aviso fallido, se reintentará',
      );
    } catch (error) {
      // The outcome could not be written: the lease expires and the delivery is taken again.
      report.error = sender.describe(error);
      logger.warn({ delivery: d.id, err: report.error }, 'no se pudo registrar el resultado de un aviso');
    }
  };

  await Promise.all(
    [...byChannel.values()].map(async (list) => {
      for (const d of list) await deliverOne(d);
    }),
  );
  return report;
}

/**
 * Passes every `everyMs` until `signal` aborts; `onPass` hears each report. Resolves when stopped, never rejects.
 */
export async function runDeliveries(
  db: Queryable,
  sender: AlertSender,
  options: DeliveryOptions & { signal: AbortSignal; everyMs?: number; onPass?: (report: DeliveryReport) => void },
): Promise<void> {
  const everyMs = options.everyMs ?? 5_000;
  while (!options.signal.aborted) {
    const report = await deliverDue(db, sender, options);
    try {
      options.onPass?.(report);
    } catch (error) {
      (options.logger ?? silentLogger).warn({ err: String(error) }, 'onPass falló');
    }
    await delay(everyMs, undefined, { signal: options.signal }).catch(() => {});
  }
}
