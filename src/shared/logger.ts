import { once, type EventEmitter } from 'node:events';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { env } from './env.ts';

export type { Logger };

/** The machine's local date as YYYYMMDD, as the old ETL named its files (Python's datetime.now()). */
export function logFileDay(now: Date): string {
  return `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, '0')}${String(now.getDate()).padStart(2, '0')}`;
}

/**
 * JSON-line logs in `LOG_DIR/ventas_postgres_YYYYMMDD.log`, the file name the old ETL used, dated when the process
 * starts. Secrets are redacted by path as a second line of defence; nothing logs the KLK token in the first place.
 */
export function createLogger(options: { logDir?: string; name?: string; now?: Date } = {}): Logger {
  const { LOG_DIR, LOG_LEVEL } = env();
  const logDir = options.logDir ?? LOG_DIR;
  const day = logFileDay(options.now ?? new Date());
  const destination = pino.destination({ dest: join(logDir, `ventas_postgres_${day}.log`), sync: false, mkdir: true });
  return pino(
    {
      name: options.name ?? 'ventas',
      level: LOG_LEVEL,
      redact: {
        paths: ['token', '*.token', 'headers.authorization', '*.headers.authorization', 'authorization'],
        censor: '[oculto]',
      },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Flushes an asynchronous file logger before the process ends. The file opens in the background: a flush asked
 * before it is open would return with nothing written, so it first waits for the file. Writes still in flight then
 * finish on their own: the tool never calls process.exit.
 */
export async function flushLogger(logger: Logger): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    (EventEmitter & { fd?: number }) | undefined;
  if (stream && typeof stream.fd === 'number' && stream.fd < 0) await once(stream, 'ready');
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}
