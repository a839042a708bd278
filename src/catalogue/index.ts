export * from './stores.ts';
export * from './config.ts';
export * from './calendar.ts';

import { UsageError } from '../shared/errors.ts';
import type { Store } from './stores.ts';

/** Resolves store ids from the command line; an unknown id is bad input that lists the valid ones. */
export function selectStores(all: readonly Store[], ids: readonly string[] | undefined): Store[] {
  if (!ids || ids.length === 0) return [...all];
  const byId = new Map(all.map((s) => [s.id, s]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new UsageError(
      `tienda desconocida: ${unknown.join(', ')}. Tiendas válidas: ${all.map((s) => s.id).join(', ')}`,
    );
  }
  return [...new Set(ids)].map((id) => byId.get(id)!);
}
