import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON-line logs in `LOG_DIR/ventas_postgres_YYYYMMDD.log`, the file name the old ETL used. Secrets are redacted
 * by path as a second line of defence; nothing logs the KLK token in the first place.
 */
export function createLogger(options: { logDir?: string; name?: string; now?: Date } = {}): Logger {
  const logDir = options.logDir ?? process.env.LOG_DIR ?? 'logs';
  mkdirSync(logDir, { recursive: true });
  const day = (options.now ?? new Date()).toISOString().slice(0, 10).replaceAll('-', '');
  const destination = pino.destination({ dest: join(logDir, `ventas_postgres_${day}.log`), sync: false, mkdir: true });
  return pino(
    {
      name: options.name ?? 'ventas',
      level: process.env.LOG_LEVEL ?? 'info',
      redact: { paths: ['token', '*.token', 'headers.authorization', '*.headers.authorization', 'authorization'], censor: '[oculto]' },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Flushes an asynchronous file logger before the process exits. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
