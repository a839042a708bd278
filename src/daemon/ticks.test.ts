import { beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { holdLiveness } from '../db/liveness.ts';
import type { Db } from '../db/types.ts';
import { claimTick, failTick, finishTick, readTicks, type TickClaim } from './ticks.ts';

const SYNC = 'sync@America/Caracas';
const TEN = new Date('2026-01-12T14:00:00Z');
const ELEVEN = new Date('2026-01-12T15:00:00Z');
const AT = new Date('2026-01-12T14:00:07Z');

describeEachBackend('daemon ticks', (open) => {
  let db: Db;
  let owners: { a: string; b: string };
  beforeEach(async () => {
    db = await open();
    const a = await holdLiveness(db, { host: 'daemon-a', pid: 101 });
    const b = await holdLiveness(db, { host: 'daemon-b', pid: 202 });
    owners = { a: a.owner(), b: b.owner() };
    return () => db.close();
  });

  const claim = (owner: string, dueAt = TEN, name = SYNC): TickClaim => ({ name, dueAt, owner, at: AT });

  it('claims a due time once: not again, nor an earlier one; a later one yes', async () => {
    expect(await claimTick(db, claim(owners.a))).toBe(true);
    expect(await claimTick(db, claim(owners.b))).toBe(false);
    expect(await claimTick(db, claim(owners.a))).toBe(false);
    expect(await claimTick(db, claim(owners.b, new Date(TEN.getTime() - 1)))).toBe(false);
    // Another tick is another row.
    expect(await claimTick(db, claim(owners.b, TEN, 'recovery@America/Caracas'))).toBe(true);
    expect(await readTicks(db)).toEqual([
      expect.objectContaining({ name: 'recovery@America/Caracas', owner: owners.b, status: 'running' }),
      {
        name: SYNC,
        lastDueAt: TEN,
        owner: owners.a,
        status: 'running',
        startedAt: AT,
        finishedAt: null,
        error: null,
        interrupted: false,
        lastSuccessAt: null,
        unreachableSince: null,
      },
    ]);
    // The next hour, even while the last is still running (a sync that took longer than its interval).
    expect(await claimTick(db, claim(owners.b, ELEVEN))).toBe(true);
    expect((await readTicks(db))[1]).toMatchObject({ lastDueAt: ELEVEN, owner: owners.b, status: 'running' });
  });

  it('of claims racing for one due time, exactly one wins', async () => {
    const more = await Promise.all(
      [1, 2, 3, 4].map((pid) => holdLiveness(db, { host: 'daemon-x', pid }).then((l) => l.owner())),
    );
    const racers = [owners.a, owners.b, ...more];
    const won = await Promise.all(racers.map((o) => claimTick(db, claim(o))));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await readTicks(db))[0]!.owner).toBe(racers[won.indexOf(true)]);
    const next = await Promise.all(racers.map((o) => claimTick(db, claim(o, ELEVEN))));
    expect(next.filter(Boolean)).toHaveLength(1);
  });

  it('records how a run ended, only for the owner of the claim and only once', async () => {
    await claimTick(db, claim(owners.a));
    const done = { ...claim(owners.a), at: new Date('2026-01-12T14:03:00Z') };
    expect(await finishTick(db, { ...done, owner: owners.b })).toBe(false);
    expect(await finishTick(db, { ...done, dueAt: ELEVEN })).toBe(false);
    expect(await finishTick(db, done)).toBe(true);
    expect(await failTick(db, done, 'tarde')).toBe(false);
    expect((await readTicks(db))[0]).toMatchObject({ status: 'success', finishedAt: done.at, error: null });

    await claimTick(db, claim(owners.b, ELEVEN));
    expect(await failTick(db, { ...claim(owners.b, ELEVEN), at: done.at }, 'KLK no responde')).toBe(true);
    expect((await readTicks(db))[0]).toMatchObject({
      lastDueAt: ELEVEN,
      status: 'failed',
      finishedAt: done.at,
      error: 'KLK no responde',
      interrupted: false,
    });
    // A failed due time is not run again; the next one clears the error.
    expect(await claimTick(db, claim(owners.a, ELEVEN))).toBe(false);
    expect(await claimTick(db, claim(owners.a, new Date('2026-01-12T16:00:00Z')))).toBe(true);
    expect((await readTicks(db))[0]).toMatchObject({ status: 'running', finishedAt: null, error: null });
  });

  it('gives the due time of a run whose process died to the next claimer, and the dead run cannot finish it', async () => {
    const doomed = await holdLiveness(db, { host: 'daemon-c', pid: 303 });
    const dead = doomed.owner();
    await claimTick(db, claim(dead));
    expect(await claimTick(db, claim(owners.b))).toBe(false);
    await doomed.release();
    expect((await readTicks(db))[0]).toMatchObject({ owner: dead, status: 'running', interrupted: true });
    expect(await claimTick(db, claim(owners.b))).toBe(true);
    expect(await claimTick(db, claim(owners.a))).toBe(false);
    expect((await readTicks(db))[0]).toMatchObject({ owner: owners.b, status: 'running', interrupted: false });
    expect(await finishTick(db, claim(dead))).toBe(false);
    expect(await finishTick(db, claim(owners.b))).toBe(true);
  });

  it('takes no finished run of a dead process again, nor a run from its own process', async () => {
    const finished = await holdLiveness(db, { host: 'daemon-c', pid: 303 });
    const owner = finished.owner();
    await claimTick(db, claim(owner));
    expect(await finishTick(db, claim(owner))).toBe(true);
    await finished.release();
    expect(await claimTick(db, claim(owners.a))).toBe(false);

    const busy = await holdLiveness(db, { host: 'daemon-d', pid: 404 });
    await claimTick(db, claim(busy.owner(), ELEVEN));
    await busy.release();
    // Its liveness lock away (a connection being replaced): a claim of its own process takes nothing from it.
    expect(await claimTick(db, claim(busy.owner(), ELEVEN))).toBe(false);
    expect(await claimTick(db, claim(owners.a, ELEVEN))).toBe(true);
  });

  it('keeps the last success and, across failed due times, since when KLK has not answered', async () => {
    const at = (iso: string) => new Date(iso);
    const run = async (dueAt: Date, end: Date, how: 'ok' | 'unreachable' | 'error') => {
      const c = { ...claim(owners.a, dueAt), at: dueAt };
      expect(await claimTick(db, c)).toBe(true);
      if (how === 'ok') return finishTick(db, { ...c, at: end });
      return failTick(db, { ...c, at: end }, 'falló', { unreachable: how === 'unreachable' });
    };
    await run(TEN, at('2026-01-12T14:02:00Z'), 'ok');
    await run(ELEVEN, at('2026-01-12T15:01:00Z'), 'unreachable');
    await run(at('2026-01-12T16:00:00Z'), at('2026-01-12T16:01:00Z'), 'unreachable');
    // Since the first unreachable run's start, the last success untouched by the failures.
    expect((await readTicks(db))[0]).toMatchObject({
      lastSuccessAt: at('2026-01-12T14:02:00Z'),
      unreachableSince: ELEVEN,
    });
    // A failure with an answer (KLK answers, something else failed) ends the count.
    await run(at('2026-01-12T17:00:00Z'), at('2026-01-12T17:01:00Z'), 'error');
    expect((await readTicks(db))[0]).toMatchObject({ unreachableSince: null });
    await run(at('2026-01-12T18:00:00Z'), at('2026-01-12T18:01:00Z'), 'unreachable');
    await run(at('2026-01-12T19:00:00Z'), at('2026-01-12T19:03:00Z'), 'ok');
    expect((await readTicks(db))[0]).toMatchObject({
      lastSuccessAt: at('2026-01-12T19:03:00Z'),
      unreachableSince: null,
    });
  });
});
