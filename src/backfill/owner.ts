import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Identifies this process in leases: host and pid let a resumed run on the same host reclaim a dead run's chunks. */
export function ownerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** True only when the owner is a process of this host that no longer exists (another host's cannot be checked). */
export function ownerIsDeadHere(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** `host:pid` of an owner, for messages. */
export function ownerProcess(owner: string): string {
  return owner.split(':').slice(0, 2).join(':');
}
