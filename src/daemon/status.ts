/**
 * What the daemon tells about itself, as interfaces the daemon implements and the web reads (`GET /api/daemon`,
 * `/api/incidents`, `/readyz`, `/metrics`): the web never reaches into the daemon's machinery, and tests give it a
 * fake (test/support/daemon.ts).
 */
import type { IsoDate } from '../shared/dates.ts';
import type { DaemonMetrics } from './metrics.ts';

/** Instants are ISO 8601 strings on the ventas clock (`now()`), null when it has not happened (or is not planned). */
export type IsoInstant = string;

export interface DaemonStatus {
  /** Who leads now, and since when; null while nobody does. */
  leader: { holder: string; since: IsoInstant } | null;
  /** This process leads. */
  isLeader: boolean;
  lastSync: IsoInstant | null;
  nextSync: IsoInstant | null;
  lastRecovery: IsoInstant | null;
  nextRecovery: IsoInstant | null;
  /** Store-days waiting to be healed after the last cycle, whoever ran it. */
  backlog: number;
  /**
   * The healing's KLK requests (retries included) in the rolling hour, the last 60 minutes of the ventas clock,
   * whoever led, out of `heal.maxRequestsPerHour`: `left` is what the next cycle may send.
   */
  budget: { maxRequestsPerHour: number; usedThisHour: number; left: number };
  /**
   * The end of the last daemon cycle, whoever led it (a standby reports the leader's, so it is ready too); null
   * before the first. `/readyz` wants it less than two `syncEveryMinutes` ago.
   */
  lastCycleEndedAt: IsoInstant | null;
  syncEveryMinutes: number;
}

export interface DaemonStatusProvider {
  status(): Promise<DaemonStatus>;
}

export const INCIDENT_KINDS = [
  'klk_unreachable',
  'store_stale',
  'recovery_failed',
  'heal_exhausted',
  'quarantine',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** As the webhook sends it (`incident` of `incident.opened|reminder|resolved`). */
export interface Incident {
  id: number;
  kind: IncidentKind;
  /** null for what concerns no single store (KLK unreachable, the nightly recovery). */
  store: string | null;
  /** The store-days it is about, oldest first (empty when none in particular). */
  dates: IsoDate[];
  openedAt: IsoInstant;
  /** null while open. */
  resolvedAt: IsoInstant | null;
  /** In Spanish, for people. */
  summary: string;
}

export interface IncidentsProvider {
  /** The open incidents and the recently resolved ones, newest first. */
  list(): Promise<Incident[]>;
}

/** What `ventas daemon` gives its HTTP server; `ventas serve` gives none and has none of its routes. */
export interface DaemonProviders {
  status: DaemonStatusProvider;
  incidents: IncidentsProvider;
  metrics: Pick<DaemonMetrics, 'registry'>;
}
