import { beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import type { Db } from '../db/types.ts';
import { decide, type Decision, type Observed } from './rules.ts';
import {
  applyDecision,
  claimDeliveries,
  listDeliveries,
  listIncidents,
  readIncidentState,
  recordDelivered,
  recordFailure,
} from './store.ts';

/**
 * Incidents and their outbox through store.ts: a decision applied once or many times (a restart, a repeated cycle)
 * opens, reminds of and resolves each incident once, queuing one delivery per channel for each alert; deliveries
 * are taken in order, once, and their outcome kept.
 */

const T0 = new Date('2026-01-10T14:30:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const ALERTS = { klkDownMinutes: 15, staleAfterMinutes: 150, repeatMinutes: 360 };
const NOTHING: Observed = {
  klkUnreachableSince: null,
  staleStores: [],
  recoveryFailed: null,
  healExhausted: [],
  quarantined: [],
};
const BOTH = ['webhook', 'email'] as const;

describeEachBackend('incidents in the database', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  /** One cycle as the daemon runs it: read, decide, apply. */
  async function cycle(
    observed: Partial<Observed>,
    now: Date,
    channels: readonly ('webhook' | 'slack' | 'email')[] = BOTH,
  ) {
    const state = await readIncidentState(db);
    const decision = decide({ ...NOTHING, ...observed }, state, { now, alerts: ALERTS });
    return { decision, applied: await applyDecision(db, decision, channels) };
  }

  it('opens once, queues one delivery per channel, and a repeated cycle or decision adds nothing', async () => {
    const down = { klkUnreachableSince: at(-20) };
    const { decision, applied } = await cycle(down, T0);
    expect(applied.opened).toEqual([
      expect.objectContaining({
        kind: 'klk_unreachable',
        store: null,
        summary: 'KLK no responde desde las 10:10 (20 min)',
        details: { since: at(-20).toISOString() },
        openedAt: T0,
        alertsSent: 1,
        lastAlertedAt: T0,
        resolvedAt: null,
      }),
    ]);
    expect(applied.queued).toBe(2);
    const id = applied.opened[0]!.id;
    expect((await listDeliveries(db)).map((d) => [d.incidentId, d.alertNo, d.event, d.channel])).toEqual([
      [id, 1, 'opened', 'webhook'],
      [id, 1, 'opened', 'email'],
    ]);
    expect((await listDeliveries(db))[0]).toMatchObject({
      incident: {
        id,
        kind: 'klk_unreachable',
        store: null,
        dates: [],
        openedAt: T0.toISOString(),
        resolvedAt: null,
        summary: 'KLK no responde desde las 10:10 (20 min)',
      },
      createdAt: T0,
      nextAttemptAt: T0,
      attempts: 0,
      deliveredAt: null,
    });

    // The same decision again (a cycle retried after a crash): the open incident is there, nothing is queued.
    expect(await applyDecision(db, decision, BOTH)).toMatchObject({ opened: [], queued: 0 });
    // The next cycle, as after a restart: still open, refreshed, not told again.
    const next = await cycle(down, at(5));
    expect(next.applied).toMatchObject({ opened: [], reminded: [], resolved: [], refreshed: 1, queued: 0 });
    expect(await listIncidents(db)).toEqual([
      expect.objectContaining({ id, summary: 'KLK no responde desde las 10:10 (25 min)', alertsSent: 1 }),
    ]);
    expect(await listDeliveries(db)).toHaveLength(2);
  });

  it('keeps at most one open incident per (kind, store), chain-wide included, and opens a new one once resolved', async () => {
    const draft = { kind: 'recovery_failed' as const, store: null, dates: ['2026-01-09'], summary: 'x', details: {} };
    const twice: Decision = {
      now: T0,
      open: [draft, { ...draft, summary: 'y' }, { ...draft, kind: 'store_stale', store: 'tienda_01' }],
      refresh: [],
      remind: [],
      remindAlertedBefore: at(-360),
      resolve: [],
    };
    const first = await applyDecision(db, twice, []);
    expect(first.opened.map((i) => [i.kind, i.store])).toEqual([
      ['recovery_failed', null],
      ['store_stale', 'tienda_01'],
    ]);
    expect(first.queued).toBe(0);
    expect((await applyDecision(db, { ...twice, now: at(1) }, [])).opened).toEqual([]);

    const recovery = first.opened[0]!;
    await applyDecision(db, { ...twice, open: [], resolve: [{ id: recovery.id, summary: 'resuelto' }] }, []);
    const reopened = await applyDecision(db, { ...twice, now: at(2), open: [draft] }, []);
    expect(reopened.opened).toEqual([expect.objectContaining({ kind: 'recovery_failed', openedAt: at(2) })]);
    expect(reopened.opened[0]!.id).not.toBe(recovery.id);
    expect((await readIncidentState(db)).open.map((i) => i.kind).sort()).toEqual(['recovery_failed', 'store_stale']);
  });

  it('reminds every repeatMinutes, once per due reminder however often the cycle runs', async () => {
    const quarantined = [{ store: 'tienda_02', day: '2026-01-08', lines: 4 }];
    const { applied } = await cycle({ quarantined }, T0, ['slack']);
    const id = applied.opened[0]!.id;
    expect((await cycle({ quarantined }, at(359), ['slack'])).applied.reminded).toEqual([]);

    const due = await cycle({ quarantined }, at(360), ['slack']);
    expect(due.applied.reminded).toEqual([expect.objectContaining({ id, alertsSent: 2, lastAlertedAt: at(360) })]);
    // The same reminder decided twice (two cycles seeing the same state) goes out once.
    expect(await applyDecision(db, due.decision, ['slack'])).toMatchObject({ reminded: [], queued: 0 });
    expect((await cycle({ quarantined }, at(361), ['slack'])).applied.reminded).toEqual([]);
    expect((await cycle({ quarantined }, at(720), ['slack'])).applied.reminded).toHaveLength(1);

    expect((await listDeliveries(db)).map((d) => [d.alertNo, d.event, d.channel])).toEqual([
      [1, 'opened', 'slack'],
      [2, 'reminder', 'slack'],
      [3, 'reminder', 'slack'],
    ]);
  });

  it('resolves by itself once, with its resolution summary, time and alert', async () => {
    const stale = [{ store: 'tienda_01', since: at(-200) }];
    const { applied } = await cycle({ staleStores: stale }, T0);
    const id = applied.opened[0]!.id;
    const done = await cycle({}, at(30));
    expect(done.applied.resolved).toEqual([
      expect.objectContaining({
        id,
        resolvedAt: at(30),
        resolvedAlertedAt: at(30),
        alertsSent: 2,
        summary:
          'tienda_01: sincroniza de nuevo; sin sincronización correcta desde las 07:10 hasta las 11:00 (3 h 50 min)',
      }),
    ]);
    expect(await applyDecision(db, done.decision, BOTH)).toMatchObject({ resolved: [], queued: 0 });
    expect((await cycle({}, at(31))).applied).toMatchObject({ resolved: [], queued: 0 });
    expect(await readIncidentState(db)).toEqual({ open: [], klkBackAt: null });

    const resolvedDeliveries = (await listDeliveries(db, { incidentId: id })).filter((d) => d.event === 'resolved');
    expect(resolvedDeliveries.map((d) => [d.alertNo, d.channel])).toEqual([
      [2, 'webhook'],
      [2, 'email'],
    ]);
    expect(resolvedDeliveries[0]!.incident).toMatchObject({
      resolvedAt: at(30).toISOString(),
      openedAt: T0.toISOString(),
    });
  });

  it('remembers when KLK came back, so starved stores get their full staleAfterMinutes again', async () => {
    await cycle({ klkUnreachableSince: at(-300), staleStores: [{ store: 'tienda_01', since: at(-300) }] }, T0);
    expect((await readIncidentState(db)).open.map((i) => i.kind)).toEqual(['klk_unreachable']);
    const back = await cycle({ staleStores: [{ store: 'tienda_01', since: at(-300) }] }, at(10));
    expect(back.applied.resolved.map((i) => i.kind)).toEqual(['klk_unreachable']);
    expect(back.applied.opened).toEqual([]);
    expect((await readIncidentState(db)).klkBackAt).toEqual(at(10));
    expect((await cycle({ staleStores: [{ store: 'tienda_01', since: at(-300) }] }, at(159))).applied.opened).toEqual(
      [],
    );
    expect(
      (await cycle({ staleStores: [{ store: 'tienda_01', since: at(-300) }] }, at(160))).applied.opened.map(
        (i) => i.kind,
      ),
    ).toEqual(['store_stale']);
  });

  it('keeps dates and details as given, and lists open incidents before the latest resolved', async () => {
    const healExhausted = [{ store: 'tienda_03', dates: ['2026-01-07', '2026-01-05'], attempts: 5 }];
    await cycle({ healExhausted, recoveryFailed: { day: '2026-01-09', ran: false } }, T0);
    await cycle({ healExhausted }, at(1));
    const list = await listIncidents(db);
    expect(list.map((i) => [i.kind, i.resolvedAt])).toEqual([
      ['heal_exhausted', null],
      ['recovery_failed', at(1)],
    ]);
    expect(list[0]).toMatchObject({
      store: 'tienda_03',
      dates: ['2026-01-05', '2026-01-07'],
      details: { attempts: 5 },
    });
    expect(await listIncidents(db, { limit: 1 })).toHaveLength(1);
  });

  it('hands out due deliveries once, in order per incident and channel, and keeps their outcome', async () => {
    const { applied } = await cycle({ recoveryFailed: { day: '2026-01-09', ran: false } }, T0, ['webhook', 'slack']);
    const id = applied.opened[0]!.id;
    await cycle({}, at(1), ['webhook', 'slack']);
    const lease = 120_000;

    // Only the configured channels, only what is due; the resolutions wait for their openings.
    expect(
      await claimDeliveries(db, { now: at(-1), channels: ['webhook', 'slack'], limit: 10, leaseMs: lease }),
    ).toEqual([]);
    const first = await claimDeliveries(db, { now: at(2), channels: ['webhook'], limit: 10, leaseMs: lease });
    expect(first.map((d) => [d.incidentId, d.alertNo, d.event, d.channel, d.attempts])).toEqual([
      [id, 1, 'opened', 'webhook', 1],
    ]);
    expect(first[0]!.nextAttemptAt).toEqual(new Date(at(2).getTime() + lease));
    // Held by its lease: no one else takes it meanwhile.
    expect(await claimDeliveries(db, { now: at(3), channels: ['webhook'], limit: 10, leaseMs: lease })).toEqual([]);

    await recordFailure(db, first[0]!.id, { at: at(3), error: 'HTTP 500', retryAt: at(10) });
    expect(await claimDeliveries(db, { now: at(9), channels: ['webhook'], limit: 10, leaseMs: lease })).toEqual([]);
    const again = await claimDeliveries(db, { now: at(10), channels: ['webhook'], limit: 10, leaseMs: lease });
    expect(again.map((d) => [d.id, d.attempts, d.lastError])).toEqual([[first[0]!.id, 2, 'HTTP 500']]);
    await recordDelivered(db, again[0]!.id, at(10));

    const resolution = await claimDeliveries(db, { now: at(10), channels: ['webhook'], limit: 10, leaseMs: lease });
    expect(resolution.map((d) => [d.alertNo, d.event])).toEqual([[2, 'resolved']]);
    await recordFailure(db, resolution[0]!.id, { at: at(11), error: 'sin respuesta', retryAt: null });

    const slack = await claimDeliveries(db, { now: at(20), channels: ['webhook', 'slack'], limit: 1, leaseMs: lease });
    expect(slack.map((d) => [d.event, d.channel])).toEqual([['opened', 'slack']]);
    // A delivery given up stops nothing after it and is never taken again.
    await recordDelivered(db, slack[0]!.id, at(20));
    expect(
      (await claimDeliveries(db, { now: at(30), channels: ['webhook', 'slack'], limit: 10, leaseMs: lease })).map(
        (d) => [d.event, d.channel],
      ),
    ).toEqual([['resolved', 'slack']]);

    expect(
      (await listDeliveries(db, { incidentId: id })).map((d) => [
        d.event,
        d.channel,
        d.attempts,
        d.deliveredAt,
        d.gaveUpAt,
        d.lastError,
      ]),
    ).toEqual([
      ['opened', 'webhook', 2, at(10), null, null],
      ['opened', 'slack', 1, at(20), null, null],
      ['resolved', 'webhook', 1, null, at(11), 'sin respuesta'],
      ['resolved', 'slack', 1, null, null, null],
    ]);
    // A late outcome for a delivered one changes nothing.
    await recordFailure(db, first[0]!.id, { at: at(40), error: 'tarde', retryAt: at(50) });
    expect((await listDeliveries(db, { incidentId: id }))[0]).toMatchObject({ deliveredAt: at(10), lastError: null });
  });
});
