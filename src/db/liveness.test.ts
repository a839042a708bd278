import { hostname } from 'node:os';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPostgresDatabase, describeEachBackend } from '../../test/backends.ts';
import { OTHER_HOST_OWNER } from '../../test/support/runs.ts';
import { goneOwners, holdLiveness, liveness, ownerGone, ownerProcess } from './liveness.ts';
import { openPostgres } from './postgres.ts';
import type { Db } from './types.ts';

describeEachBackend('liveness', (open, backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  it('an owner is alive while its lock is held, whatever its host, and gone once it is released', async () => {
    const here = await holdLiveness(db);
    const elsewhere = await holdLiveness(db, { host: 'otra-maquina', pid: 4242 });
    const mine = here.owner();
    expect(mine).toMatch(new RegExp(`^${hostname()}:${process.pid}:L${here.key}:[0-9a-f]{8}$`));
    expect(ownerProcess(mine)).toBe(`${hostname()}:${process.pid}`);
    const theirs = elsewhere.owner();
    expect(theirs).toMatch(/^otra-maquina:4242:L\d+:[0-9a-f]{8}$/);
    // Every owner of one lock lives and dies with it; an ETL run's lease holder (etl:RUN:owner) too.
    const owners = [mine, here.owner(), theirs, `etl:7:${theirs}`];
    expect(await goneOwners(db, owners)).toEqual([]);
    await elsewhere.release();
    expect(await goneOwners(db, owners)).toEqual([theirs, `etl:7:${theirs}`].sort());
    await elsewhere.release(); // twice is harmless
    expect(await goneOwners(db, [mine])).toEqual([]);
  });

  it('an owner that names no lock is never known gone (it waits out its lease); nor is no owner at all', async () => {
    await holdLiveness(db);
    const namesNone = [
      OTHER_HOST_OWNER,
      `${hostname()}:1:abcd1234`,
      'etl:3:h:1:x',
      'h:1:Lx:ab',
      'h:1:L99999999999:ab',
      '',
    ];
    expect(await goneOwners(db, namesNone)).toEqual([]);
    const { rows } = await db.query<{ gone: boolean }>(`SELECT ${ownerGone('NULL::text')} AS gone`);
    expect(rows).toEqual([{ gone: false }]);
  });

  it('with no lock held at all, every owner naming one is gone', async () => {
    const lone = `h:1:L${2 ** 31 - 1}:abcd0000`;
    expect(await goneOwners(db, [lone, OTHER_HOST_OWNER])).toEqual([lone]);
  });

  it("a Db's own liveness is taken once and kept: every owner it names stays alive", async () => {
    const [a, b] = await Promise.all([liveness(db), liveness(db)]);
    expect(a).toBe(b);
    expect(await liveness(db)).toBe(a);
    expect(await goneOwners(db, [a.owner(), a.owner()])).toEqual([]);
  });

  if (backend === 'postgres')
    it('holds its lock on a connection of its own: another Db sees it, and sees it go when the Db closes', async () => {
      const target = await createPostgresDatabase(process.env.TEST_DATABASE_URL!);
      try {
        const process1 = await openPostgres(target.url, { poolSize: 1 });
        const observer = await openPostgres(target.url, { poolSize: 1 });
        try {
          const owner = (await liveness(process1)).owner();
          const { rows } = await observer.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ventas-liveness' AND datname = current_database()`,
          );
          expect(rows).toEqual([{ n: 1 }]);
          // The pool's own connections come and go; the lock stays.
          await process1.query('SELECT 1');
          expect(await goneOwners(observer, [owner])).toEqual([]);
          await process1.close();
          expect(await goneOwners(observer, [owner])).toEqual([owner]);
        } finally {
          await process1.close().catch(() => undefined);
          await observer.close();
        }
      } finally {
        await target.drop();
      }
    });

  if (backend === 'postgres')
    it(
      'a lost lock connection is replaced and the same lock taken again: its owners live on',
      { timeout: 15_000 },
      async () => {
        const me = await liveness(db);
        const owner = me.owner();
        const { rows } = await db.query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND objsubid = 2 AND granted`,
          [me.key],
        );
        expect(rows).toHaveLength(1);
        await db.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await vi.waitFor(async () => expect(await goneOwners(db, [owner])).toEqual([owner]), {
          timeout: 5_000,
          interval: 20,
        });
        await vi.waitFor(async () => expect(await goneOwners(db, [owner])).toEqual([]), {
          timeout: 10_000,
          interval: 50,
        });
        const again = await db.query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND objsubid = 2 AND granted`,
          [me.key],
        );
        expect(again.rows[0]!.pid).not.toBe(rows[0]!.pid);
      },
    );

  if (backend === 'postgres')
    it('a key another process holds is drawn again; three in a row is an error', async () => {
      const other = await holdLiveness(db, { host: 'otra-maquina', pid: 4242 });
      const draws = [other.key, other.key + 1];
      const mine = await holdLiveness(db, undefined, () => draws.shift()!);
      expect(mine.key).toBe(other.key + 1);
      expect(draws).toEqual([]);
      await expect(holdLiveness(db, undefined, () => other.key)).rejects.toThrow(
        'otro proceso tiene el cerrojo de vida sorteado, tres veces seguidas',
      );
      // The lock drawn again is really held: its owners live.
      expect(await goneOwners(db, [mine.owner()])).toEqual([]);
    });
});

describe('ownerProcess', () => {
  it('is the host and pid of an owner', () => {
    expect(ownerProcess('caja-3:812:L12:abcd0000')).toBe('caja-3:812');
    expect(ownerProcess(OTHER_HOST_OWNER)).toBe('otra-maquina:4242');
  });
});
