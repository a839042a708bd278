import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { OTHER_HOST_OWNER } from '../../test/support/runs.ts';
import { holdLiveness, ownerProcess } from '../db/liveness.ts';
import type { Db, Queryable, QueryResult } from '../db/types.ts';
import { Leader, processLeader } from './leader.ts';
import { acquireLeadership, readLeadership, renewLeadership } from './leadership.ts';

const LEASE_MS = 30_000;

/** A candidate and the leadership changes it told. */
function candidate(db: Queryable, owner: string): { leader: Leader; changes: boolean[] } {
  const leader = new Leader(db, { owner, leaseMs: LEASE_MS });
  const changes: boolean[] = [];
  leader.on('change', (leading) => changes.push(leading));
  return { leader, changes };
}

describeEachBackend('daemon leadership', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  /** Owners of a process of their own each (holdLiveness stands in for another daemon). */
  async function processes(n: number): Promise<Array<{ owner: string; die: () => Promise<void> }>> {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const l = await holdLiveness(db, { host: `daemon-${i}`, pid: 100 + i });
        return { owner: l.owner(), die: () => l.release() };
      }),
    );
  }

  it('of two candidates one leads and the other stands by; release hands the lead over at once', async () => {
    const [pa, pb] = await processes(2);
    const a = candidate(db, pa!.owner);
    const b = candidate(db, pb!.owner);
    expect(await a.leader.attempt()).toBe(true);
    expect(await b.leader.attempt()).toBe(false);
    expect([a.leader.isLeader, b.leader.isLeader]).toEqual([true, false]);
    expect((await readLeadership(db))?.holder).toBe(pa!.owner);

    await a.leader.release();
    expect(a.leader.isLeader).toBe(false);
    expect(a.changes).toEqual([true, false]);
    expect(await readLeadership(db)).toBeNull();
    expect(await b.leader.attempt()).toBe(true);
    expect(b.changes).toEqual([true]);
    // A released candidate asks no more.
    expect(await a.leader.attempt()).toBe(false);
    expect((await readLeadership(db))?.holder).toBe(pb!.owner);
  });

  it('replaces at once a leader whose process is gone, which then learns it lost', async () => {
    const [pa, pb] = await processes(2);
    const a = candidate(db, pa!.owner);
    const b = candidate(db, pb!.owner);
    await a.leader.attempt();
    expect(await b.leader.attempt()).toBe(false);
    await pa!.die();
    expect(await readLeadership(db)).toBeNull();
    expect(await b.leader.attempt()).toBe(true);
    expect(await a.leader.attempt()).toBe(false);
    expect(a.changes).toEqual([true, false]);
  });

  it('takes over a lease that ran out, not one that has not', async () => {
    const [pb] = await processes(1);
    const b = candidate(db, pb!.owner);
    // A holder that names no liveness lock (never known gone): only its lease counts.
    await acquireLeadership(db, OTHER_HOST_OWNER, LEASE_MS);
    expect(await b.leader.attempt()).toBe(false);
    await renewLeadership(db, OTHER_HOST_OWNER, -1_000);
    expect(await readLeadership(db)).toBeNull();
    expect(await b.leader.attempt()).toBe(true);
    expect(await renewLeadership(db, OTHER_HOST_OWNER, LEASE_MS)).toBeNull();
  });

  it('keeps the lead by renewing it (since unchanged), and loses it to another once it let the lease run out', async () => {
    const [pa, pb] = await processes(2);
    const a = candidate(db, pa!.owner);
    const b = candidate(db, pb!.owner);
    await a.leader.attempt();
    const first = (await readLeadership(db))!;
    await renewLeadership(db, pa!.owner, -1_000); // as if its lease ran out unrenewed
    expect(await a.leader.attempt()).toBe(true);
    const renewed = (await readLeadership(db))!;
    expect(renewed).toMatchObject({ holder: pa!.owner, since: first.since });
    expect(renewed.expiresAt.getTime()).toBeGreaterThan(Date.now() + LEASE_MS / 2);
    expect(await b.leader.attempt()).toBe(false);

    await renewLeadership(db, pa!.owner, -1_000);
    expect(await b.leader.attempt()).toBe(true);
    expect((await readLeadership(db))!.since.getTime()).toBeGreaterThanOrEqual(first.since.getTime());
    expect(await a.leader.attempt()).toBe(false);
    expect(a.changes).toEqual([true, false]);
  });

  it('lets exactly one of racing candidates lead, round after round', async () => {
    const candidates = (await processes(6)).map((p) => candidate(db, p.owner));
    for (let round = 0; round < 4; round++) {
      const answers = await Promise.all(candidates.map((c) => c.leader.attempt()));
      expect(answers.filter(Boolean)).toHaveLength(1);
      const winner = candidates[answers.indexOf(true)]!;
      expect(candidates.filter((c) => c.leader.isLeader)).toEqual([winner]);
      expect((await readLeadership(db))?.holder).toBe(winner.leader.owner);
      await winner.leader.release();
    }
    // Raw acquires racing for an empty seat: one row, one winner.
    const raw = await Promise.all(
      (await processes(5)).map((p) => acquireLeadership(db, p.owner, LEASE_MS).then((r) => r?.holder ?? null)),
    );
    expect(raw.filter((h) => h !== null)).toHaveLength(1);
  });

  it('stands for this process with its liveness owner, and leads alone', async () => {
    const leader = await processLeader(db, { leaseMs: LEASE_MS });
    expect(ownerProcess(leader.owner)).toBe(`${hostname()}:${process.pid}`);
    expect(await leader.start()).toBe(true);
    await leader.release();
    expect(await readLeadership(db)).toBeNull();
  });
});

/** A database whose answers the test gives one by one: each query waits for the next `answer()`. */
function scriptedDb() {
  const asked: string[] = [];
  const pending: Array<(result: QueryResult<unknown> | Error) => void> = [];
  const db = {
    query: (sql: string) => {
      asked.push(sql.trim().split(/\s/)[0]!);
      return new Promise((resolve, reject) => pending.push((r) => (r instanceof Error ? reject(r) : resolve(r))));
    },
  } as unknown as Queryable;
  const row = { holder: 'h', since: new Date(0), expires_at: new Date(0) };
  return {
    db,
    asked,
    /** Answers the oldest waiting query: the lease held, lost (no row), or a failure. */
    answer(outcome: 'held' | 'lost' | Error) {
      const next = pending.shift();
      if (!next) throw new Error('no query is waiting');
      next(
        outcome instanceof Error
          ? outcome
          : { rows: outcome === 'held' ? [row] : [], rowCount: outcome === 'held' ? 1 : 0 },
      );
    },
    waiting: () => pending.length,
  };
}

describe('Leader over time', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** Lets the promise callbacks of an answer run. */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  /** Releases, answering its DELETE. */
  async function stop(leader: Leader, s: ReturnType<typeof scriptedDb>): Promise<void> {
    const released = leader.release();
    await settle();
    s.answer('held');
    await released;
  }

  it('asks every third of the lease: takes the lead, then renews it', async () => {
    const s = scriptedDb();
    const { leader, changes } = candidate(s.db, 'yo');
    const first = leader.start();
    s.answer('held');
    expect(await first).toBe(true);
    expect(s.asked).toEqual(['INSERT']);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    expect(s.asked).toEqual(['INSERT', 'UPDATE']);
    s.answer('held');
    await settle();
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    s.answer('held');
    await settle();
    // Renewed in time, over and over: never stepped down.
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    s.answer('held');
    await settle();
    expect(s.asked).toEqual(['INSERT', 'UPDATE', 'UPDATE', 'UPDATE']);
    expect(leader.isLeader).toBe(true);
    expect(changes).toEqual([true]);
    await stop(leader, s);
  });

  it('keeps the lead through failed renewals until its lease could have run out, then steps down', async () => {
    const s = scriptedDb();
    const errors: unknown[] = [];
    const leader = new Leader(s.db, { owner: 'yo', leaseMs: LEASE_MS, onError: (e) => errors.push(e) });
    const changes: boolean[] = [];
    leader.on('change', (l) => changes.push(l));
    const first = leader.start();
    s.answer('held');
    await first;
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    s.answer(new Error('base caída'));
    await settle();
    expect(errors).toEqual([new Error('base caída')]);
    expect(leader.isLeader).toBe(true);
    // The next renewal hangs: the lead ends when the lease asked for at the start could have run out.
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    expect(s.waiting()).toBe(1);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3 - 1);
    expect(leader.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(leader.isLeader).toBe(false);
    expect(changes).toEqual([true, false]);
    // An answer after the whole lease it asked for proves nothing about now; the next round asks for the lead again.
    await vi.advanceTimersByTimeAsync((LEASE_MS * 2) / 3);
    s.answer('held');
    await settle();
    expect(leader.isLeader).toBe(false);
    expect(s.asked).toEqual(['INSERT', 'UPDATE', 'UPDATE']);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    expect(s.asked.at(-1)).toBe('INSERT');
    s.answer('held');
    await settle();
    expect(changes).toEqual([true, false, true]);
    await stop(leader, s);
  });

  it('steps down at once when a renewal finds another leading', async () => {
    const s = scriptedDb();
    const { leader, changes } = candidate(s.db, 'yo');
    const first = leader.start();
    s.answer('held');
    await first;
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    s.answer('lost');
    await settle();
    expect(changes).toEqual([true, false]);
    // And the step-down stays: no timer of the old lease brings anything back.
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    s.answer('lost');
    await settle();
    expect(s.asked).toEqual(['INSERT', 'UPDATE', 'INSERT']);
    expect(changes).toEqual([true, false]);
    await stop(leader, s);
  });

  it('on release stops asking and gives the lead up, after the round in flight', async () => {
    const s = scriptedDb();
    const { leader, changes } = candidate(s.db, 'yo');
    const first = leader.start();
    s.answer('held');
    await first;
    await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
    const released = leader.release();
    s.answer('held'); // the renewal in flight
    await settle();
    expect(s.asked).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    s.answer('held');
    await released;
    expect(changes).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(LEASE_MS * 2);
    expect(s.asked).toHaveLength(3);
    expect(await leader.start()).toBe(false);
    expect(s.asked).toHaveLength(3);
  });
});
