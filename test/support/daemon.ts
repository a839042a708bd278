/**
 * The daemon's providers in memory, for tests of what reads them (the web's daemon routes): a status a test sets, a
 * list of incidents it opens and resolves, and a real metrics registry of its own.
 */
import { createDaemonMetrics, type DaemonMetrics } from '../../src/daemon/metrics.ts';
import type {
  DaemonProviders,
  DaemonStatus,
  DaemonStatusProvider,
  Incident,
  IncidentsProvider,
} from '../../src/daemon/status.ts';

export class MemoryDaemonStatus implements DaemonStatusProvider {
  current: DaemonStatus;
  /** When set, status() rejects with it (a provider that cannot read its state). */
  failure: Error | null = null;

  constructor(initial: Partial<DaemonStatus> = {}) {
    this.current = {
      leader: null,
      isLeader: false,
      lastSync: null,
      nextSync: null,
      lastRecovery: null,
      nextRecovery: null,
      backlog: 0,
      budget: { maxRequestsPerHour: 60, usedThisHour: 0, left: 60 },
      lastCycleEndedAt: null,
      syncEveryMinutes: 60,
      ...initial,
    };
  }

  set(patch: Partial<DaemonStatus>): void {
    this.current = { ...this.current, ...patch };
  }

  async status(): Promise<DaemonStatus> {
    if (this.failure) throw this.failure;
    return structuredClone(this.current);
  }
}

export class MemoryIncidents implements IncidentsProvider {
  private readonly items: Incident[] = [];
  private nextId = 1;

  /** Opens one; returns it with its id. */
  open(incident: Omit<Incident, 'id' | 'resolvedAt'>): Incident {
    const opened = { ...incident, id: this.nextId++, resolvedAt: null };
    this.items.push(opened);
    return opened;
  }

  resolve(id: number, at: string): void {
    const incident = this.items.find((i) => i.id === id);
    if (!incident) throw new Error(`no existe el incidente ${id}`);
    incident.resolvedAt = at;
  }

  async list(): Promise<Incident[]> {
    return structuredClone(this.items).sort((a, b) => b.openedAt.localeCompare(a.openedAt) || b.id - a.id);
  }
}

export interface FakeDaemon extends DaemonProviders {
  status: MemoryDaemonStatus;
  incidents: MemoryIncidents;
  metrics: DaemonMetrics;
}

export function fakeDaemon(initial: Partial<DaemonStatus> = {}): FakeDaemon {
  return {
    status: new MemoryDaemonStatus(initial),
    incidents: new MemoryIncidents(),
    metrics: createDaemonMetrics(),
  };
}
