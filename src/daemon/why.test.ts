import { describe, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import type { DayCell } from '../coverage/states.ts';
import { nextTry, zonedInstant, type WhyInput } from './why.ts';

const { heal } = parseConfig({});
const CARACAS = 'America/Caracas';
/** 10:00 in Caracas (UTC−4): the day before is past its grace, inside the sync hours, outside the night window. */
const NOW = '2026-01-26T14:00:00.000Z';
const DAY = '2026-01-25';
const COMMAND = `npx ventas backfill --from ${DAY} --to ${DAY} --stores tienda_07`;

type Status = NonNullable<WhyInput['daemon']>['status'];

const status: Status = {
  leader: { holder: 'host-a:4242', since: '2026-01-26T06:00:00.000Z' },
  nextSync: '2026-01-26T15:00:00.000Z',
  nextRecovery: '2026-01-27T07:00:00.000Z',
  lastCycleEndedAt: '2026-01-26T13:02:00.000Z',
  syncEveryMinutes: 60,
  backlog: 12,
  budget: { maxRequestsPerHour: 60, usedThisHour: 15, left: 45 },
};

function input(patch: {
  now?: string;
  day?: string;
  cell?: Partial<WhyInput['cell']>;
  attempts?: WhyInput['attempts'];
  status?: Partial<Status>;
  incident?: { id: number; openedAt: string } | null;
  daemon?: boolean;
}): WhyInput {
  const cell: Pick<DayCell, 'day' | 'state' | 'sourceChanged' | 'unprovenEmpty'> = {
    day: patch.day ?? DAY,
    state: 'missing',
    sourceChanged: false,
    unprovenEmpty: null,
    ...patch.cell,
  };
  return {
    store: { id: 'tienda_07', timeZone: CARACAS },
    cell,
    now: new Date(patch.now ?? NOW),
    heal,
    chainZone: CARACAS,
    attempts: patch.attempts ?? null,
    daemon:
      patch.daemon === false
        ? null
        : { status: { ...status, ...patch.status }, exhaustedIncident: patch.incident ?? null },
  };
}

describe('nextTry', () => {
  it('has nothing to do for a complete day or one without expected sales', () => {
    expect(nextTry(input({ cell: { state: 'complete' } }))).toEqual({
      reason: 'none',
      at: null,
      summary: 'Completo: nada que recuperar.',
      command: null,
    });
    for (const state of ['empty', 'closed'] as const)
      expect(nextTry(input({ cell: { state } })).summary).toBe('No se esperan ventas ese día.');
    expect(nextTry(input({ cell: { state: 'future' } })).reason).toBe('future');
  });

  it('leaves a rejected day alone until its lines change in KLK, then heals it as any other', () => {
    expect(nextTry(input({ cell: { state: 'rejected' } }))).toMatchObject({ reason: 'rejected', at: null });
    expect(nextTry(input({ cell: { state: 'rejected', sourceChanged: true } })).reason).toBe('next-cycle');
  });

  it('takes a day in the daemon’s next cycle within the budget: its next tick or one interval after the last cycle', () => {
    expect(nextTry(input({}))).toEqual({
      reason: 'next-cycle',
      // 13:02 + 60 min comes before the 15:00 sync.
      at: '2026-01-26T14:02:00.000Z',
      summary:
        'En el próximo ciclo del daemon, dentro del presupuesto (quedan 45 de 60 peticiones esta hora); ' +
        '12 días-tienda en cola, los más recientes primero.',
      command: null,
    });
    expect(nextTry(input({ status: { lastCycleEndedAt: null } })).at).toBe(status.nextSync);
    const spent = nextTry(
      input({ status: { budget: { maxRequestsPerHour: 60, usedThisHour: 60, left: 0 }, leader: null } }),
    );
    expect(spent.summary).toBe(
      'En un próximo ciclo del daemon: el presupuesto de esta hora está agotado (60 peticiones); ' +
        '12 días-tienda en cola, los más recientes primero. Ahora no lidera ningún daemon.',
    );
  });

  it('waits for the night window when the backlog is big, and not inside it', () => {
    expect(nextTry(input({ status: { backlog: 51 } }))).toEqual({
      reason: 'big-window',
      // 22:00 in Caracas.
      at: '2026-01-27T02:00:00.000Z',
      summary:
        'La cola del daemon tiene 51 días-tienda, más de 50: se recupera dentro de la ventana nocturna 22:00-06:00.',
      command: null,
    });
    expect(nextTry(input({ status: { backlog: 50 } })).reason).toBe('next-cycle');
    // 23:30 in Caracas: inside the window.
    expect(nextTry(input({ status: { backlog: 51 }, now: '2026-01-27T03:30:00.000Z' })).reason).toBe('next-cycle');
    // 05:00: the window is open until 06:00, so it is taken now; at 07:00 the next opening is that evening.
    expect(nextTry(input({ status: { backlog: 51 }, now: '2026-01-26T09:00:00.000Z' })).reason).toBe('next-cycle');
    expect(nextTry(input({ status: { backlog: 51 }, now: '2026-01-26T11:00:00.000Z' })).at).toBe(
      '2026-01-27T02:00:00.000Z',
    );
  });

  it('keeps a day just ended in its grace period until graceMinutes after its local midnight', () => {
    // 00:30 in Caracas on the 26th: the 25th ended 30 minutes ago.
    expect(nextTry(input({ now: '2026-01-26T04:30:00.000Z' }))).toMatchObject({
      reason: 'grace',
      at: '2026-01-26T05:30:00.000Z',
      summary: 'En periodo de gracia: el daemon lo toma 90 minutos después de terminado el día.',
    });
    expect(nextTry(input({ now: '2026-01-26T05:30:00.000Z' })).reason).toBe('next-cycle');
  });

  it('waits until confirmFrom for a second empty answer, and takes the day once it is there', () => {
    const unprovenEmpty = {
      reason: 'needs-second-answer' as const,
      since: '2026-01-26T10:00:00.000Z',
      confirmFrom: '2026-01-26T16:00:00.000Z',
      confirmFromLocal: '2026-01-26 12:00',
    };
    expect(nextTry(input({ cell: { unprovenEmpty } }))).toMatchObject({
      reason: 'confirm',
      at: '2026-01-26T16:00:00.000Z',
      command: null,
    });
    expect(nextTry(input({ cell: { unprovenEmpty }, now: '2026-01-26T16:00:00.000Z' })).reason).toBe('next-cycle');
    // An answer that did not prove itself is no reason to wait.
    const noProof = { ...unprovenEmpty, reason: 'no-proof' as const, confirmFrom: null, confirmFromLocal: null };
    expect(nextTry(input({ cell: { unprovenEmpty: noProof } })).reason).toBe('next-cycle');
  });

  it('gives a day up after heal.maxAttempts, naming its incident, with the command that tries it by hand', () => {
    const attempts = { count: 5, lastAt: '2026-01-26T13:00:00.000Z' };
    expect(nextTry(input({ attempts, incident: { id: 3, openedAt: '2026-01-26T13:01:00.000Z' } }))).toEqual({
      reason: 'exhausted',
      at: null,
      summary:
        'El daemon lo dejó tras 5 intentos (máximo 5): incidente #3 (recuperación agotada). Puede intentarse a mano.',
      command: COMMAND,
    });
    expect(nextTry(input({ attempts: { ...attempts, count: 4 } })).reason).toBe('next-cycle');
  });

  it('sends a day older than the lookback to the command line', () => {
    // The lookback of 35 days from the 26th starts on 2025-12-22.
    expect(nextTry(input({ day: '2025-12-21' }))).toMatchObject({
      reason: 'outside-lookback',
      command: expect.stringContaining('--from 2025-12-21'),
    });
    expect(nextTry(input({ day: '2025-12-22' })).reason).toBe('next-cycle');
  });

  it('without a daemon gives the command to run by hand, and still says when only a later answer can prove a day', () => {
    expect(nextTry(input({ daemon: false }))).toEqual({
      reason: 'manual',
      at: null,
      summary: 'Este tablero no corre el daemon: recupérelo a mano.',
      command: COMMAND,
    });
    // No grace and no lookback without a daemon: a person may fetch any day at once.
    expect(nextTry(input({ daemon: false, now: '2026-01-26T04:30:00.000Z' })).reason).toBe('manual');
    expect(nextTry(input({ daemon: false, day: '2025-10-01' })).reason).toBe('manual');
    const unprovenEmpty = {
      reason: 'needs-second-answer' as const,
      since: '2026-01-26T10:00:00.000Z',
      confirmFrom: '2026-01-26T16:00:00.000Z',
      confirmFromLocal: '2026-01-26 12:00',
    };
    expect(nextTry(input({ daemon: false, cell: { unprovenEmpty } }))).toMatchObject({
      reason: 'confirm',
      command: COMMAND,
    });
  });
});

describe('zonedInstant', () => {
  it('is the instant a zone’s wall time happens, across offsets and summer time', () => {
    expect(zonedInstant(CARACAS, '2026-01-27 00:00').toISOString()).toBe('2026-01-27T04:00:00.000Z');
    expect(zonedInstant('Europe/Madrid', '2026-07-01 22:00').toISOString()).toBe('2026-07-01T20:00:00.000Z');
    expect(zonedInstant('Europe/Madrid', '2026-01-01 22:00').toISOString()).toBe('2026-01-01T21:00:00.000Z');
    expect(zonedInstant('UTC', '2026-03-29 02:30').toISOString()).toBe('2026-03-29T02:30:00.000Z');
  });
});
