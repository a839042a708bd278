/**
 * Why a store-day is not complete and when it is tried next: the daemon's heal rules (cycle.ts) read backwards for one
 * store-day, from its state, its heal attempts, the request that last touched it and, under `ventas daemon`, the
 * daemon's status. Pure: the inputs are read by the modules that own them (daemon/explain.ts gathers them).
 */
import type { HealConfig } from '../catalogue/config.ts';
import type { DayCell, DayState } from '../coverage/states.ts';
import { addDays, localDateTime, type IsoDate } from '../shared/dates.ts';
import { count, int } from '../shared/format.ts';
import { insideHours } from './cycle.ts';
import type { DaemonStatus, IsoInstant } from './status.ts';

/** The KLK request that last touched the store-day, with the run that made it. */
export interface LastRequest {
  at: IsoInstant;
  outcome: 'ok' | 'empty' | 'failed' | 'timeout';
  lines: number;
  error: string | null;
  /** The request's days and, for a part of a day, its hours. */
  dayFrom: IsoDate;
  dayTo: IsoDate;
  horaDesde: string | null;
  horaHasta: string | null;
  /** null when the request was made outside a recorded run. */
  run: { id: number; type: string; status: string; command: string | null } | null;
}

export interface HealAttempts {
  count: number;
  lastAt: IsoInstant;
}

/**
 * What comes next for the store-day:
 * - `none`: nothing to do (complete, or no sales expected);
 * - `future`: the day is not over at the store;
 * - `rejected`: every line KLK sent was quarantined; asked again only once they change in KLK;
 * - `outside-lookback`: older than the `heal.lookbackDays` the daemon watches: by hand;
 * - `grace`: the day ended less than `heal.graceMinutes` ago;
 * - `confirm`: KLK answered it empty once; only a second answer from `confirmFrom` on can prove it;
 * - `exhausted`: the daemon tried it `heal.maxAttempts` times and gave it up (incident `heal_exhausted`);
 * - `big-window`: the backlog is above `heal.bigAboveStoreDays`: healed inside `heal.bigWindow` only;
 * - `next-cycle`: the daemon's next cycle, within its budget;
 * - `manual`: no daemon serves this page: the command to run.
 */
export type NextReason =
  | 'none'
  | 'future'
  | 'rejected'
  | 'outside-lookback'
  | 'grace'
  | 'confirm'
  | 'exhausted'
  | 'big-window'
  | 'next-cycle'
  | 'manual';

export interface NextTry {
  reason: NextReason;
  /** When it is tried (or may be), when known. */
  at: IsoInstant | null;
  /** In Spanish, without the time (the page writes `at` in its zone). */
  summary: string;
  /** The command that tries it by hand, when one makes sense. */
  command: string | null;
}

export interface WhyInput {
  store: { id: string; timeZone: string };
  cell: Pick<DayCell, 'day' | 'state' | 'sourceChanged' | 'unprovenEmpty'>;
  now: Date;
  heal: Pick<
    HealConfig,
    'graceMinutes' | 'maxAttempts' | 'lookbackDays' | 'bigAboveStoreDays' | 'bigWindow' | 'maxRequestsPerHour'
  >;
  /** The chain's zone: the daemon's lookback and its big-backlog window are read in it. */
  chainZone: string;
  attempts: HealAttempts | null;
  /** Under `ventas daemon`, its status and its open `heal_exhausted` incident for the store, if any. */
  daemon: {
    status: Pick<
      DaemonStatus,
      'nextSync' | 'nextRecovery' | 'lastCycleEndedAt' | 'syncEveryMinutes' | 'backlog' | 'budget' | 'leader'
    >;
    exhaustedIncident: { id: number; openedAt: IsoInstant } | null;
  } | null;
}

const NOT_EXPECTED: readonly DayState[] = ['complete', 'empty', 'closed'];

/** The command that fetches the whole store-day by hand. */
export function manualCommand(store: string, day: IsoDate): string {
  return `npx ventas backfill --from ${day} --to ${day} --stores ${store}`;
}

/** The instant a wall time `YYYY-MM-DD HH:MM` of a zone happens (the later one when a clock change repeats it). */
export function zonedInstant(timeZone: string, local: string): Date {
  const asUtc = Date.parse(`${local.slice(0, 10)}T${local.slice(11, 16)}:00Z`);
  let guess = asUtc;
  // Two corrections settle any offset, a clock change between guess and answer included.
  for (let i = 0; i < 2; i++) {
    const seen = Date.parse(`${localDateTime(timeZone, new Date(guess)).replace(' ', 'T')}Z`);
    guess += asUtc - seen;
  }
  return new Date(guess);
}

/** When the day's grace is over: `graceMinutes` after its local midnight ends it. */
function graceEnds(store: WhyInput['store'], day: IsoDate, graceMinutes: number): Date {
  return new Date(zonedInstant(store.timeZone, `${addDays(day, 1)} 00:00`).getTime() + graceMinutes * 60_000);
}

/** The next opening of `HH:MM-HH:MM` in the zone after `now`. */
function nextOpening(window: string, timeZone: string, now: Date): Date {
  const today = localDateTime(timeZone, now).slice(0, 10);
  const opening = zonedInstant(timeZone, `${today} ${window.slice(0, 5)}`);
  return opening > now ? opening : zonedInstant(timeZone, `${addDays(today, 1)} ${window.slice(0, 5)}`);
}

/** The daemon's next cycle: its next tick, or one sync interval after the last cycle ended, whichever comes first. */
function nextCycle(status: NonNullable<WhyInput['daemon']>['status'], now: Date): IsoInstant | null {
  const candidates = [status.nextSync, status.nextRecovery]
    .concat(
      status.lastCycleEndedAt
        ? [new Date(Date.parse(status.lastCycleEndedAt) + status.syncEveryMinutes * 60_000).toISOString()]
        : [],
    )
    .flatMap((at) => (at && Date.parse(at) > now.getTime() ? [Date.parse(at)] : []));
  return candidates.length > 0 ? new Date(Math.min(...candidates)).toISOString() : null;
}

/** What comes next for the store-day, and why. */
export function nextTry(input: WhyInput): NextTry {
  const { store, cell, now, heal, attempts, daemon } = input;
  const { day, state } = cell;
  const command = manualCommand(store.id, day);
  const next = (
    reason: NextReason,
    summary: string,
    at: Date | IsoInstant | null = null,
    cmd: string | null = null,
  ) => ({
    reason,
    at: at instanceof Date ? at.toISOString() : at,
    summary,
    command: cmd,
  });

  if (NOT_EXPECTED.includes(state))
    return next('none', state === 'complete' ? 'Completo: nada que recuperar.' : 'No se esperan ventas ese día.');
  if (state === 'future')
    return next('future', 'El día no ha terminado en la tienda: se sincroniza a lo largo del día.');
  if (state === 'rejected' && !cell.sourceChanged)
    return next(
      'rejected',
      'KLK envió líneas, pero todas quedaron en cuarentena: no se piden de nuevo hasta que cambien en KLK.',
    );

  const today = localDateTime(input.chainZone, now).slice(0, 10);
  const watchedFrom = addDays(today, -heal.lookbackDays);
  if (daemon && day < watchedFrom)
    return next(
      'outside-lookback',
      `Es anterior a los ${int(heal.lookbackDays)} días que vigila el daemon (desde el ${watchedFrom}): recupérelo a mano.`,
      null,
      command,
    );

  const graceEnd = graceEnds(store, day, heal.graceMinutes);
  if (daemon && graceEnd > now)
    return next(
      'grace',
      `En periodo de gracia: el daemon lo toma ${count(heal.graceMinutes, 'minuto', 'minutos')} después de terminado el día.`,
      graceEnd,
    );

  const confirmFrom = cell.unprovenEmpty?.reason === 'needs-second-answer' ? cell.unprovenEmpty.confirmFrom : null;
  if (confirmFrom && Date.parse(confirmFrom) > now.getTime())
    return next(
      'confirm',
      'KLK respondió el día sin ventas una vez; solo una segunda respuesta vacía desde esta hora lo confirma ' +
        '(antes, pedirlo no prueba nada).',
      confirmFrom,
      daemon ? null : command,
    );

  if (attempts && attempts.count >= heal.maxAttempts) {
    const incident = daemon?.exhaustedIncident;
    return next(
      'exhausted',
      `El daemon lo dejó tras ${count(attempts.count, 'intento', 'intentos')} (máximo ${int(heal.maxAttempts)})` +
        `${incident ? `: incidente #${incident.id} (recuperación agotada)` : ''}. Puede intentarse a mano.`,
      null,
      command,
    );
  }

  if (!daemon) return next('manual', 'Este tablero no corre el daemon: recupérelo a mano.', null, command);

  const { status } = daemon;
  const cycle = nextCycle(status, now);
  const local = localDateTime(input.chainZone, now);
  if (status.backlog > heal.bigAboveStoreDays && !insideHours(heal.bigWindow, local.slice(11, 16)))
    return next(
      'big-window',
      `La cola del daemon tiene ${count(status.backlog, 'día-tienda', 'días-tienda')}, más de ` +
        `${int(heal.bigAboveStoreDays)}: se recupera dentro de la ventana nocturna ${heal.bigWindow}.`,
      nextOpening(heal.bigWindow, input.chainZone, now),
    );
  const { left, maxRequestsPerHour } = status.budget;
  const queue = `${count(status.backlog, 'día-tienda', 'días-tienda')} en cola, los más recientes primero`;
  const leaderless = status.leader === null ? ' Ahora no lidera ningún daemon.' : '';
  if (left <= 0)
    return next(
      'next-cycle',
      `En un próximo ciclo del daemon: el presupuesto de esta hora está agotado (${int(maxRequestsPerHour)} ` +
        `peticiones); ${queue}.${leaderless}`,
      cycle,
    );
  return next(
    'next-cycle',
    `En el próximo ciclo del daemon, dentro del presupuesto (quedan ${int(left)} de ${int(maxRequestsPerHour)} ` +
      `peticiones esta hora); ${queue}.${leaderless}`,
    cycle,
  );
}
