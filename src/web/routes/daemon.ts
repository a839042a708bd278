/**
 * What `ventas daemon` serves beside the dashboard, mounted only when the app is given the daemon's providers:
 *   GET /livez          200 {"status":"ok"} while the process answers (open: a probe)
 *   GET /readyz         200 {"status":"ready"} when the database answers and the last cycle ended less than two sync
 *                       intervals ago on the ventas clock; else 503 {"status":"not-ready","reason"} (open: a probe)
 *   GET /metrics        Prometheus text from the daemon's registry (behind the token when one is set)
 *   GET /api/daemon     leader, last and next sync and recovery, backlog, budget (behind the token)
 *   GET /api/incidents  open and recently resolved incidents (behind the token)
 * app.ts decides which of them the token guards.
 */
import { Hono } from 'hono';
import { ping } from '../../db/index.ts';
import type { Db } from '../../db/types.ts';
import type { DaemonProviders, DaemonStatus, DaemonStatusProvider } from '../../daemon/status.ts';
import { now } from '../../shared/clock.ts';
import { count, seconds } from '../../shared/format.ts';
import { only } from '../http.ts';
import { noQuery, valid } from '../params.ts';

/**
 * Why the daemon is not ready at `at`, or null when it is: the last cycle must have ended less than two sync intervals
 * before (a missed tick or a stuck cycle shows within two).
 */
export function staleCycleReason(
  status: Pick<DaemonStatus, 'lastCycleEndedAt' | 'syncEveryMinutes'>,
  at: Date,
): string | null {
  if (status.lastCycleEndedAt === null) return 'ningún ciclo del daemon ha terminado todavía';
  const limitMs = 2 * status.syncEveryMinutes * 60_000;
  const ageMs = at.getTime() - Date.parse(status.lastCycleEndedAt);
  if (Number.isNaN(ageMs)) return `fin del último ciclo ilegible: "${status.lastCycleEndedAt}"`;
  if (ageMs < limitMs) return null;
  return (
    `el último ciclo del daemon terminó hace ${seconds(ageMs)} (${status.lastCycleEndedAt}): más de ` +
    `${count(2 * status.syncEveryMinutes, 'minuto', 'minutos')}, dos intervalos de sincronización`
  );
}

/** Why the daemon is not ready now, or null: the database first (nothing works without it), then the cycle. */
async function notReadyReason(db: Db, provider: DaemonStatusProvider): Promise<string | null> {
  try {
    await ping(db);
  } catch (error) {
    return `la base de datos no responde: ${(error as Error).message}`;
  }
  let status: DaemonStatus;
  try {
    status = await provider.status();
  } catch (error) {
    return `no se pudo leer el estado del daemon: ${(error as Error).message}`;
  }
  return staleCycleReason(status, now());
}

/** `/livez` and `/readyz`: open to all, as `/api/health`, for a service manager or Kubernetes to probe. */
export function probeRoutes(db: Db, providers: DaemonProviders): Hono {
  const noParameters = valid('query', noQuery);
  return new Hono()
    .all('/livez', only('GET'), noParameters, (c) => c.json({ status: 'ok' }))
    .all('/readyz', only('GET'), noParameters, async (c) => {
      const reason = await notReadyReason(db, providers.status);
      return reason === null ? c.json({ status: 'ready' }) : c.json({ status: 'not-ready', reason }, 503);
    });
}

/** `/metrics`: the registry in Prometheus' text format, with the content type it names. */
export function metricsRoutes(providers: DaemonProviders): Hono {
  const { registry } = providers.metrics;
  return new Hono().all('/metrics', only('GET'), valid('query', noQuery), async (c) =>
    c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }),
  );
}

/** `/api/daemon` and `/api/incidents`, mounted under /api. */
export function daemonRoutes(providers: DaemonProviders): Hono {
  const noParameters = valid('query', noQuery);
  return new Hono()
    .all('/daemon', only('GET'), noParameters, async (c) => {
      const s = await providers.status.status();
      // Field by field: what the provider carries beyond the contract stays out of the API.
      return c.json({
        leader: s.leader && { holder: s.leader.holder, since: s.leader.since },
        isLeader: s.isLeader,
        lastSync: s.lastSync,
        nextSync: s.nextSync,
        lastRecovery: s.lastRecovery,
        nextRecovery: s.nextRecovery,
        backlog: s.backlog,
        budget: {
          maxRequestsPerHour: s.budget.maxRequestsPerHour,
          usedThisHour: s.budget.usedThisHour,
          left: s.budget.left,
        },
        lastCycleEndedAt: s.lastCycleEndedAt,
        syncEveryMinutes: s.syncEveryMinutes,
      });
    })
    .all('/incidents', only('GET'), noParameters, async (c) => {
      const incidents = await providers.incidents.list();
      return c.json({
        incidents: incidents.map((i) => ({
          id: i.id,
          kind: i.kind,
          store: i.store,
          dates: i.dates,
          openedAt: i.openedAt,
          resolvedAt: i.resolvedAt,
          summary: i.summary,
        })),
      });
    });
}
