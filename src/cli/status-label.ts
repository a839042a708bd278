import type { EtlSummary } from '../sync/etl.ts';

/** A run's status as people read it, in every command's output. */
export const STATUS_LABEL: Record<EtlSummary['status'], string> = {
  success: 'éxito',
  partial: 'parcial',
  failed: 'fallida',
  skipped: 'omitida',
  running: 'en curso',
  interrupted: 'interrumpida',
  cancelled: 'cancelada',
};
