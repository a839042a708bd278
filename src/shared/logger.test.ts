import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogger, logFileDay } from './logger.ts';

describe('logger', () => {
  it("names the file by the machine's local date, late evening included", () => {
    expect(logFileDay(new Date(2026, 0, 12, 23, 30))).toBe('20260112');
    expect(logFileDay(new Date(2026, 11, 31, 0, 5))).toBe('20261231');
  });

  it('writes JSON lines into LOG_DIR, creating it, and hides an authorization header', async () => {
    const logDir = join(mkdtempSync(join(tmpdir(), 'ventas-log-')), 'nuevo');
    const logger = createLogger({ logDir, now: new Date(2026, 0, 12, 8) });
    logger.info({ headers: { authorization: 'Bearer secreto' } }, 'petición');
    await flushLogger(logger);
    expect(readdirSync(logDir)).toEqual(['ventas_postgres_20260112.log']);
    // The write itself completes in the background (the process stays up until it has).
    const file = join(logDir, 'ventas_postgres_20260112.log');
    await expect.poll(() => readFileSync(file, 'utf8')).toContain('petición');
    const entry = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(entry).toMatchObject({ msg: 'petición', headers: { authorization: '[oculto]' } });
  });
});
