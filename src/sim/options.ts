import { accessSync, constants } from 'node:fs';
import { isValidDate, localDateTime } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import type { SimWorld } from './generator.ts';
import { parseClock } from './generator.ts';

/** Quirks and faults: each off by default, changeable while the simulator runs. */
export interface SimFaults {
  /** Share of invoices voided at the source (they vanish from answers and truth). */
  voidRate: number;
  /** Share of lines sent twice in one answer. */
  duplicateRate: number;
  /** Share of requests answered with HTTP 500, 502 or 503. */
  failRate: number;
  /** Share of requests answered with HTTP 200 `{"error": ...}`. */
  errorPayloadRate: number;
  /** Share of answers cut mid-way (status 200, broken JSON). */
  truncateRate: number;
  /** Share of answers sent as a bare JSON list of lines. */
  listRate: number;
  /** Delay before answering: base ms, plus ms per 1,000 lines of the answer. */
  latencyMs: [base: number, perThousandLines: number];
  /** Answers with more lines than this hang, then fail with 504; null: no limit. */
  maxLines: number | null;
  /** How long a hanging request is held before its 504. */
  hangMs: number;
  /** Answer every `POST /ventas` with this file's content, verbatim; null: off. */
  replay: string | null;
}

export interface SimOptions extends SimWorld, SimFaults {
  seed: number;
  scale: number;
  voidRate: number;
  host: string;
  /** 0: a free port. */
  port: number;
}

export { DEFAULT_OPTIONS } from './defaults.ts';

/** Settings changeable at runtime (`POST /__sim/faults`): the faults and the sim clock. */
export type RuntimeSettings = Partial<SimFaults> & { now?: Date | undefined };

const RATE_KEYS = ['voidRate', 'duplicateRate', 'failRate', 'errorPayloadRate', 'truncateRate', 'listRate'] as const;
const SETTING_KEYS = new Set<string>([...RATE_KEYS, 'latencyMs', 'maxLines', 'hangMs', 'replay', 'now']);

/** `failRate` -> `--fail-rate`, for messages. */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

export function parseRate(key: string, value: unknown): number {
  const n = numberOf(value);
  if (!(n >= 0 && n <= 1)) {
    throw new UsageError(
      `${flagName(key)} inválido: ${JSON.stringify(value)}. Se espera una fracción entre 0 y 1 (p. ej. 0.05).`,
    );
  }
  return n;
}

export function parseLatency(value: unknown): [number, number] {
  const pair =
    typeof value === 'string' ? value.split(',').map(numberOf) : Array.isArray(value) ? value.map(numberOf) : [];
  const [base, perThousand] = pair;
  if (pair.length !== 2 || !(base! >= 0) || !(perThousand! >= 0)) {
    throw new UsageError(
      `--latency-ms inválido: ${JSON.stringify(value)}. Se espera BASE,POR_1000_LINEAS en milisegundos, ` +
        'dos números no negativos (p. ej. 200,50).',
    );
  }
  return [base!, perThousand!];
}

function parseCount(key: string, value: unknown, min: number): number {
  const n = numberOf(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(
      `${flagName(key)} inválido: ${JSON.stringify(value)}. Se espera un entero mayor o igual a ${min}.`,
    );
  }
  return n;
}

function parseReplayFile(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new UsageError(`--replay inválido: ${JSON.stringify(value)}. Se espera la ruta de un archivo legible.`);
  }
  try {
    accessSync(value, constants.R_OK);
  } catch {
    throw new UsageError(`--replay: no se puede leer el archivo ${value}. Se espera la ruta de un archivo legible.`);
  }
  return value;
}

/** A local wall time (`YYYY-MM-DD HH:MM[:SS]`) in a time zone, as an instant. */
export function parseSimNow(value: unknown, timeZone: string): Date {
  const m = typeof value === 'string' ? /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)$/.exec(value.trim()) : null;
  const sec = m ? parseClock(m[2]!) : null;
  if (!m || !isValidDate(m[1]!) || sec === null) {
    throw new UsageError(
      `--now inválido: ${JSON.stringify(value)}. Se espera "YYYY-MM-DD HH:MM" (hora local de las tiendas).`,
    );
  }
  const [y, mo, d] = m[1]!.split('-').map(Number);
  const guess = Date.UTC(y!, mo! - 1, d!) + sec * 1000;
  // The zone's offset at that moment: format the guess in the zone and measure how far the wall clock moved.
  const local = localDateTime(timeZone, new Date(guess));
  const localMs = Date.UTC(
    Number(local.slice(0, 4)),
    Number(local.slice(5, 7)) - 1,
    Number(local.slice(8, 10)),
    Number(local.slice(11, 13)),
    Number(local.slice(14, 16)),
    Number(local.slice(17, 19)),
  );
  return new Date(guess - (localMs - guess));
}

/**
 * Validates runtime settings (JSON of `POST /__sim/faults`, or flag values as strings): every value checked before
 * any is applied. `null` turns `maxLines`, `replay` and `now` off (the real clock for `now`).
 */
export function parseSettings(raw: unknown, timeZone: string): RuntimeSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError('se espera un objeto JSON con opciones, p. ej. {"failRate": 0.1}');
  }
  const out: RuntimeSettings = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!SETTING_KEYS.has(key)) {
      throw new UsageError(`opción desconocida: ${key}. Opciones válidas: ${[...SETTING_KEYS].join(', ')}`);
    }
    if ((RATE_KEYS as readonly string[]).includes(key)) out[key as (typeof RATE_KEYS)[number]] = parseRate(key, value);
    else if (key === 'latencyMs') out.latencyMs = parseLatency(value);
    else if (key === 'maxLines') out.maxLines = value === null ? null : parseCount(key, value, 1);
    else if (key === 'hangMs') out.hangMs = parseCount(key, value, 0);
    else if (key === 'replay') out.replay = value === null ? null : parseReplayFile(value);
    else out.now = value === null ? undefined : parseSimNow(value, timeZone);
  }
  return out;
}
