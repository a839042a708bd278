import { UsageError } from '../shared/errors.ts';

/**
 * How a person names a run. Backfills and ETL runs have separate id sequences: a bare number is a backfill (the
 * `runId` of the backfill's JSON, of `POST /api/backfill` and of `/api/runs/ID`), `etl-N` is ETL run N.
 */
export type RunRef = { kind: 'backfill'; id: number } | { kind: 'etl'; id: number };

const REF = /^(etl-)?(\d+)$/;

/** Parses `12` or `etl-7`; anything else is bad input that says what is valid. */
export function parseRunRef(text: string): RunRef {
  const match = REF.exec(text.trim());
  const id = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(id) || id <= 0) {
    throw new UsageError(
      `identificador de ejecución inválido: "${text}" (se espera el número de un backfill, p. ej. 12, o etl-N para una ejecución del ETL, p. ej. etl-7)`,
    );
  }
  return { kind: match[1] ? 'etl' : 'backfill', id };
}

export function formatRunRef(ref: RunRef): string {
  return ref.kind === 'etl' ? `etl-${ref.id}` : String(ref.id);
}

/** How the messages name a run: "el backfill #12", "la ejecución etl-7". */
export function describeRunRef(ref: RunRef): string {
  return ref.kind === 'etl' ? `la ejecución etl-${ref.id}` : `el backfill #${ref.id}`;
}

/** The command that resumes a backfill. */
export function resumeCommand(backfillId: number): string {
  return `npx ventas backfill --resume ${backfillId}`;
}
