import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES } from '../catalogue/stores.ts';
import { openDb } from '../db/index.ts';
import { DAEMON_DAY } from '../demo/daemon-day.ts';
import { listIncidents } from '../incidents/store.ts';
import { addDays } from '../shared/dates.ts';
import { DEFAULT_OPTIONS } from '../sim/index.ts';
import { runCli } from '../../test/support/cli.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

// Three stores of the seed's situation (an old one, FLOR AMARILLO just added, PARAISO new) keep it small.
const STORES = DEFAULT_STORES.filter((s) => ['tienda_01', 'tienda_11', 'tienda_18'].includes(s.id));
const SCALE = 0.002;

it('npm start -- --daemon: KLK down for hours opens one incident that resolves by itself, and the lookback ends equal to KLK', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-demo-daemon-'));
  writeFileSync(join(cwd, 'ventas.config.json'), JSON.stringify({ stores: STORES }));
  const r = await runCli(
    ['demo', '--scale', String(SCALE), '--config', 'ventas.config.json', '--daemon', '--hour-seconds', '0.25'],
    { cwd, timeoutMs: 120_000 },
  );
  expect(r.stderr).not.toContain('Ciclo fallido');
  expect(r.code).toBe(0);
  const out = r.stdout;
  // The story, in order: the usual demo, then the day: KLK down, the alert, KLK back, the resolution, the check.
  const story = [
    '5. Resultado verificado',
    '6. Un día del daemon',
    'KLK deja de responder',
    'Aviso por webhook (firma válida): incidente abierto · KLK no responde',
    'KLK vuelve a responder',
    'Aviso por webhook (firma válida): incidente resuelto · KLK responde de nuevo',
    '7. Verificación contra KLK',
  ].map((s) => out.indexOf(s));
  expect(
    story.every((i, k) => i >= 0 && (k === 0 || i > story[k - 1]!)),
    out,
  ).toBe(true);
  expect(out.match(/incidente abierto ·/g)).toHaveLength(1);
  expect(out.match(/incidente resuelto ·/g)).toHaveLength(1);
  // The days nobody loaded since the backfill: the first cycle heals them within its budget.
  expect(out.match(/reparación de 3 días-tienda \(3 de 60 peticiones por hora\)/g)).toHaveLength(1);
  expect(out).toContain('Incidentes del día: 1 abierto, 1 resuelto por sí solo; ninguno queda abierto.');
  expect(out).toMatch(/Los \d+ días-tienda esperados coinciden con KLK, línea a línea y en USD\./);

  const db = await openDb({ databaseUrl: '', dataDir: join(cwd, '.ventas', 'demo') });
  try {
    const incidents = await listIncidents(db);
    expect(incidents.map((i) => [i.kind, i.resolvedAt !== null])).toEqual([['klk_unreachable', true]]);
    // The table holds what KLK sold over the daemon's lookback, the outage's day included.
    const world = { ...DEFAULT_OPTIONS, seed: 1, scale: SCALE, stores: STORES, closedDays: [...DEFAULT_CLOSED_DAYS] };
    await expectTableEqualsKlk(db, world, STORES, { from: addDays(DAEMON_DAY, -35), to: DAEMON_DAY });
  } finally {
    await db.close();
  }
}, 120_000);
