/**
 * The seed's way of filling the holes: the commands of its "Script Completo" (the users' hand-written plan of 2026-01-26),
 * one after another, each as `ventas etl` runs it. Its phase 1 ran with `--todas`; here it takes the stores of the
 * situation being measured.
 */
import type { Store } from '../src/catalogue/stores.ts';
import { planWindows, type KlkWindow } from '../src/klk/index.ts';
import { clampToStoreLife, parseCliDateTime, type Interval } from '../src/sync/interval.ts';

export interface SeedCommand {
  label: string;
  /** null: `--todas`. */
  stores: string[] | null;
  from: string;
  to: string;
  chunkDays: number;
}

export const SEED_SCRIPT: readonly SeedCommand[] = [
  { label: 'FASE 1', stores: null, from: '2026-01-10 00:00', to: '2026-01-25 23:59', chunkDays: 2 },
  { label: 'FASE 2.1', stores: ['tienda_11'], from: '2025-10-28 00:00', to: '2026-01-09 23:59', chunkDays: 3 },
  { label: 'FASE 2.2', stores: ['tienda_07'], from: '2025-12-04 00:00', to: '2026-01-09 23:59', chunkDays: 3 },
  { label: 'FASE 2.3', stores: ['tienda_02'], from: '2025-10-28 00:00', to: '2026-01-09 23:59', chunkDays: 3 },
  { label: 'FASE 2.4', stores: ['tienda_03'], from: '2025-12-10 00:00', to: '2026-01-09 23:59', chunkDays: 3 },
  { label: 'FASE 2.5', stores: ['tienda_05'], from: '2025-10-31 00:00', to: '2026-01-09 23:59', chunkDays: 3 },
  { label: 'FASE 2.6', stores: ['tienda_18'], from: '2025-10-28 00:00', to: '2025-12-05 23:59', chunkDays: 5 },
  {
    label: 'FASE 3',
    stores: [
      'tienda_16',
      'tienda_15',
      'tienda_13',
      'tienda_10',
      'tienda_06',
      'tienda_08',
      'tienda_17',
      'tienda_12',
      'tienda_20',
      'tienda_19',
      'tienda_04',
      'tienda_09',
      'tienda_01',
    ],
    from: '2025-10-28 00:00',
    to: '2026-01-09 23:59',
    chunkDays: 5,
  },
];

export interface SeedStep {
  label: string;
  chunkDays: number;
  targets: Array<{ store: Store; intervals: Interval[] }>;
}

/** The script's commands restricted to `stores`, as `ventas etl` would target them (each store clamped to its life). */
export function seedSteps(stores: readonly Store[]): SeedStep[] {
  const byId = new Map(stores.map((s) => [s.id, s]));
  return SEED_SCRIPT.flatMap((command) => {
    const interval = {
      from: parseCliDateTime(command.from, 'start', '--fecha-desde'),
      to: parseCliDateTime(command.to, 'end', '--fecha-hasta'),
    };
    const chosen = command.stores === null ? [...stores] : command.stores.flatMap((id) => byId.get(id) ?? []);
    const targets = chosen.flatMap((store) => {
      const clamped = clampToStoreLife(store, interval);
      return clamped ? [{ store, intervals: [clamped] }] : [];
    });
    return targets.length > 0 ? [{ label: command.label, chunkDays: command.chunkDays, targets }] : [];
  });
}

/** The KLK requests a step makes. */
export function stepRequests(step: SeedStep): Array<{ store: Store; window: KlkWindow }> {
  return step.targets.flatMap((t) =>
    t.intervals.flatMap((i) => planWindows(i.from, i.to, step.chunkDays).map((window) => ({ store: t.store, window }))),
  );
}
