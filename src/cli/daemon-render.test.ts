import { expect, it } from 'vitest';
import type { CycleSummary } from '../daemon/cycle.ts';
import { cycleLine, renderCycle } from './daemon.ts';

const ZONE = 'America/Caracas';
const at = new Date('2026-01-15T14:30:00Z');
/** A cycle where every count is one: each noun must agree with it. */
const ones = {
  startedAt: at,
  endedAt: at,
  ticks: [
    {
      name: 'sync@America/Caracas',
      kind: 'sync',
      dueAt: new Date('2026-01-15T14:00:00Z'),
      claimed: true,
      status: 'success',
      rows: 1,
      requests: 1,
      unreachable: false,
      error: null,
    },
  ],
  heal: {
    backlogBefore: 1,
    attempted: 1,
    budget: 1,
    requests: 1,
    rows: 0,
    status: 'partial',
    backlogAfter: 1,
    deferred: false,
    bigAboveStoreDays: 50,
    bigWindow: '22:00-06:00',
    exhausted: 1,
    maxAttempts: 1,
  },
  window: { from: '2026-01-13', to: '2026-01-14' },
  storeDays: {},
  incidents: { opened: 1, reminded: 1, resolved: 1, open: 1 },
  deliveries: { delivered: 1, retrying: 1, gaveUp: 1, error: null },
} as CycleSummary;

it('a cycle of ones reads in the singular', () => {
  expect(cycleLine(ones, ZONE)).toBe(
    'Ciclo 2026-01-15 10:30: sincronización éxito · 1 fila · pendientes 1→1 · 1 incidente abierto',
  );
  expect(renderCycle(ones, ZONE).split('\n')).toEqual([
    'Ciclo del daemon · 2026-01-15 10:30 (America/Caracas)',
    '  Sincronización sync@America/Caracas (2026-01-15 10:00): éxito, 1 petición, 1 fila',
    '  Revisión:    2026-01-13 a 2026-01-14',
    '  Pendientes:  1 día-tienda antes, 1 después',
    '  Reparación:  1 día-tienda (presupuesto 1 petición), 1 petición, 0 filas · parcial',
    '  Abandonados: 1 día-tienda tras 1 intento (ver incidentes)',
    '  Incidentes:  1 abierto (1 nuevo, 1 resuelto, 1 recordado)',
    '  Avisos:      1 enviado, 1 por reintentar, 1 abandonado',
  ]);
});
