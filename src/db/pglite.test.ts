import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnreachableError } from '../shared/errors.ts';
import { openPglite } from './pglite.ts';

describe('PGlite on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'ventas-pglite-'));
  const dataDir = join(root, 'nested', '.ventas', 'pgdata');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(
    'creates its folders, keeps data across reopenings, lets one opener at a time in, with small shared buffers',
    { timeout: 240_000 },
    async () => {
      const first = await openPglite(dataDir);
      try {
        // The default 128 MB would be touched at start and weigh on every command's memory.
        expect((await first.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '32MB' }]);
        await first.exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('sigue aquí')`);
        const second = openPglite(dataDir);
        await expect(second).rejects.toBeInstanceOf(UnreachableError);
        await expect(second).rejects.toThrow(/ya está abierta en este proceso/);
      } finally {
        await first.close();
      }
      expect(existsSync(`${dataDir}.lock`)).toBe(false);

      // A lock left by a process that died is taken over, and so is one naming our pid that we do not hold (an
      // earlier incarnation with the same pid, as in a restarted container).
      for (const stale of ['2147483646', String(process.pid)]) {
        writeFileSync(`${dataDir}.lock`, stale);
        const reopened = await openPglite(dataDir);
        try {
          expect((await reopened.query('SELECT v FROM kept')).rows).toEqual([{ v: 'sigue aquí' }]);
        } finally {
          await reopened.close();
        }
      }
    },
  );
});
