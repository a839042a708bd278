import { EventEmitter } from 'node:events';
import { liveness } from '../db/liveness.ts';
import type { Db, Queryable } from '../db/types.ts';
import { acquireLeadership, releaseLeadership, renewLeadership } from './leadership.ts';

export interface LeaderOptions {
  /** A liveness owner of this process (db/liveness.ts): should the process die, the lead is free at once. */
  owner: string;
  /** How long the lead lasts unrenewed (config `daemon.leaseSeconds`): a dead leader's is taken within two. */
  leaseMs: number;
  /** A failed acquire or renew (the next one retries; the lead is kept until its lease could have run out). */
  onError?: (error: unknown) => void;
}

/**
 * Which of the daemons sharing a database schedules: the one holding the lease row (daemon/leadership.ts). Every third of
 * the lease each candidate asks again: the leader renews, the others try to take it, so a leader killed with -9 is
 * replaced within a third of a lease once its liveness lock is gone (the server ends its session), and within a
 * lease and a third if it vanished without a word (a machine lost) and only the lease tells.
 *
 * The lease's times are the database's; this process only knows when it asked. So it counts itself leader until
 * `leaseMs` after the start of its last successful request, and steps down then if no renewal came (a database
 * lost, a renewal hung): before another can have taken over. Clocks and timers being what they are, two daemons may
 * still both think they lead for a moment; the ticks' compare-and-set (claimTick) keeps a tick from running twice.
 *
 * On PGlite only this process can open the database, so it simply leads: whatever holder a previous run left has
 * its liveness lock gone and is replaced at the first try.
 */
export class Leader extends EventEmitter<{ change: [leading: boolean] }> {
  private leading = false;
  private stopped = false;
  private inFlight: Promise<boolean> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly options: LeaderOptions,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get owner(): string {
    return this.options.owner;
  }

  /** Tries once now and then every third of the lease, until release(); resolves with the first answer. */
  start(): Promise<boolean> {
    if (!this.renewTimer && !this.stopped) {
      this.renewTimer = setInterval(() => void this.attempt(), this.options.leaseMs / 3);
      this.renewTimer.unref();
    }
    return this.attempt();
  }

  /** One round: renews while leading, else tries to take the lead. Rounds never overlap: a second joins the first. */
  attempt(): Promise<boolean> {
    this.inFlight ??= this.round().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** Stops asking and gives the lead up, so another daemon takes it now instead of when the lease runs out. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    await this.inFlight;
    this.set(false);
    await releaseLeadership(this.db, this.options.owner);
  }

  private async round(): Promise<boolean> {
    if (this.stopped) return false;
    const asked = performance.now();
    const { db, options } = this;
    let held: boolean;
    try {
      const record = this.leading
        ? await renewLeadership(db, options.owner, options.leaseMs)
        : await acquireLeadership(db, options.owner, options.leaseMs);
      held = record !== null;
    } catch (error) {
      // The lead, if held, lasts until its deadline timer says otherwise.
      options.onError?.(error);
      return this.leading;
    }
    if (this.stopped) return false;
    const left = asked + options.leaseMs - performance.now();
    // An answer that took the whole lease proves nothing about now: the next round asks again.
    if (held && left > 0) {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      this.deadlineTimer = setTimeout(() => this.set(false), left);
      this.deadlineTimer.unref();
    }
    this.set(held && left > 0);
    return this.leading;
  }

  private set(leading: boolean): void {
    if (!leading && this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
    }
    if (leading === this.leading) return;
    this.leading = leading;
    this.emit('change', leading);
  }
}

/** A candidate for this process (its liveness owner on `db`), not yet started. */
export async function processLeader(db: Db, options: Omit<LeaderOptions, 'owner'>): Promise<Leader> {
  return new Leader(db, { ...options, owner: (await liveness(db)).owner() });
}
