import { readFileSync } from 'node:fs';
import { z } from '../shared/zod.ts';
import { isValidDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { env } from '../shared/env.ts';
import { COMMAND_PATIENCE_MS } from '../db/reconnect.ts';
import { KLK_DEFAULTS } from '../klk/defaults.ts';
import { DEFAULT_LINE_BUDGET } from '../plan/plan.ts';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES } from './stores.ts';

const isoDate = z.string().refine(isValidDate, { message: 'fecha inválida, se espera YYYY-MM-DD (p. ej. 2025-12-06)' });
const closedDay = z.string().refine((v) => isValidDate(v) || (/^\d{2}-\d{2}$/.test(v) && isValidDate(`2024-${v}`)), {
  message: 'día cerrado inválido, se espera YYYY-MM-DD (una vez) o MM-DD (cada año, p. ej. 12-25)',
});
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'hora inválida, se espera HH:MM de 00:00 a 23:59');
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'zona horaria desconocida, se espera un nombre IANA como America/Caracas' },
);

const storeSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'id inválido, se espera minúsculas, dígitos y _ (p. ej. tienda_01)'),
    name: z.string().min(1),
    sucursal: z.string().min(1),
    almacen: z.string().min(1),
    timeZone: timeZone.default('America/Caracas'),
    opens: hhmm.default('07:00'),
    closes: hhmm.default('21:00'),
    openedOn: isoDate.optional(),
    closedOn: isoDate.optional(),
    closedDays: z.array(closedDay).default([]),
  })
  .strict()
  .refine((s) => !s.openedOn || !s.closedOn || s.openedOn <= s.closedOn, {
    message: 'openedOn debe ser anterior o igual a closedOn',
    path: ['closedOn'],
  });

const thresholdsSchema = z
  .object({
    /** Coverage below this percentage is `ALTA`. */
    alta: z.number().min(0).max(100).default(48),
    /** Coverage below this percentage is `MEDIA`. */
    media: z.number().min(0).max(100).default(68),
    /** A day with fewer lines than this share of its usual is `partial`. */
    partialRatio: z.number().gt(0).max(1).default(0.5),
    /** A store whose first sale is this many days after `--from` is new. */
    newStoreDays: z.number().int().min(0).default(14),
    /** A common gap needs at least this share of the expected stores missing. */
    commonGapShare: z.number().gt(0).max(1).default(0.75),
  })
  .strict()
  .refine((t) => t.alta <= t.media, { message: 'alta debe ser menor o igual a media', path: ['alta'] });

/** `HH:MM-HH:MM` in a store's local time; a range whose end is before its start crosses midnight (22:00-06:00). */
const hoursRange = z
  .string()
  .regex(
    /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/,
    'franja inválida, se espera HH:MM-HH:MM (p. ej. 06:00-23:00)',
  );

/** `ventas daemon`: its schedule, all in each store's local time. */
const daemonSchema = z
  .object({
    /** The hourly sync: every this many minutes, inside `syncHours`. */
    syncEveryMinutes: z.number().int().min(1).max(1_440).default(60),
    syncHours: hoursRange.default('06:00-23:00'),
    /** The nightly recovery: at this time, the whole day `recoveryDays` before today. */
    recoveryAt: hhmm.default('03:00'),
    recoveryDays: z.number().int().min(1).max(31).default(1),
    /** How long leadership lasts without renewal: a leader killed hands over within two of these. */
    leaseSeconds: z.number().int().min(5).max(600).default(30),
  })
  .strict();

/** What the daemon fills by itself, and how fast. */
const healSchema = z
  .object({
    /** After each sync, coverage is checked this many days back. */
    lookbackDays: z.number().int().min(1).max(366).default(35),
    /** A store-day is left this long to the hourly sync before the daemon heals it. */
    graceMinutes: z.number().int().min(0).default(90),
    /** KLK requests the healing may make per hour (the sync always goes first). */
    maxRequestsPerHour: z.number().int().min(0).default(60),
    /** A backlog above this many store-days waits for `bigWindow`. */
    bigAboveStoreDays: z.number().int().min(0).default(50),
    bigWindow: hoursRange.default('22:00-06:00'),
    /** Attempts on one store-day before it is given up, with an incident. */
    maxAttempts: z.number().int().min(1).max(100).default(5),
  })
  .strict();

/** Who hears about an incident, and when. */
const alertsSchema = z
  .object({
    /** No answer from KLK for this long opens `klk_unreachable`. */
    klkDownMinutes: z.number().int().min(1).default(15),
    /** No successful sync of a store for this long, inside its hours, opens `store_stale`. */
    staleAfterMinutes: z.number().int().min(1).default(150),
    /** An open incident is told again this often. */
    repeatMinutes: z.number().int().min(1).default(360),
    /** POST of the incident as JSON, signed with `X-Ventas-Signature: sha256=<HMAC-SHA256 of the body>`. */
    webhook: z
      .object({ url: z.url(), secret: z.string().min(16, 'el secreto debe tener al menos 16 caracteres') })
      .strict()
      .optional(),
    /** A Slack incoming webhook. */
    slack: z.object({ url: z.url() }).strict().optional(),
    /** E-mail over SMTP (`smtp://user:pass@host:587`, `smtps://...`). */
    email: z
      .object({
        smtp: z.string().regex(/^smtps?:\/\//, 'se espera una URL smtp:// o smtps://'),
        from: z.email(),
        to: z.array(z.email()).min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * The configuration file, and with it the `Config` every command gets: what the file leaves out takes its default
 * here (each written once: the KLK ones are the client's own, KLK_DEFAULTS).
 */
export const configSchema = z
  .object({
    /** The chain's catalogue unless the file gives its own (each command gets its own copy). */
    stores: z
      .array(storeSchema)
      .min(1)
      .default(() => DEFAULT_STORES.map((s) => ({ ...s, closedDays: [...s.closedDays] }))),
    closedDays: z.array(closedDay).default(() => [...DEFAULT_CLOSED_DAYS]),
    thresholds: thresholdsSchema.prefault({}),
    /** Requests in flight per KLK. */
    concurrency: z.number().int().positive().max(64).default(KLK_DEFAULTS.concurrency),
    /** No single KLK request should return more lines than this. */
    lineBudget: z.number().int().positive().default(DEFAULT_LINE_BUDGET),
    /** The longest window a report, plan or backfill may span: a typo of a century must not take the server down. */
    maxWindowDays: z.number().int().positive().default(1_096),
    klk: z
      .object({
        baseUrl: z.url().optional(),
        timeoutMs: z.number().int().positive().default(KLK_DEFAULTS.timeoutMs),
        attempts: z.number().int().positive().max(20).default(KLK_DEFAULTS.attempts),
      })
      .strict()
      .prefault({}),
    daemon: daemonSchema.prefault({}),
    heal: healSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    database: z
      .object({
        /** How long a command waits for a lost database to answer again before it stops, resumable, with exit 3. */
        reconnectSeconds: z
          .number()
          .min(0)
          .max(3_600)
          .default(COMMAND_PATIENCE_MS / 1_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Two stores on one KLK branch would load the same lines twice, under two ubicacion_id.
    const seen = { id: new Set<string>(), sucursal: new Set<string>() };
    const repeated = { id: 'id repetido', sucursal: 'sucursal repetida' };
    c.stores.forEach((s, i) => {
      for (const field of ['id', 'sucursal'] as const) {
        if (seen[field].has(s[field]))
          ctx.addIssue({ code: 'custom', message: `${repeated[field]}: ${s[field]}`, path: ['stores', i, field] });
        seen[field].add(s[field]);
      }
    });
  });

export type Thresholds = z.output<typeof thresholdsSchema>;

export type Config = z.output<typeof configSchema>;
export type DaemonConfig = Config['daemon'];
export type HealConfig = Config['heal'];
export type AlertsConfig = Config['alerts'];

/** Validates a parsed config object; a bad one is a UsageError naming each field and what it allows. */
export function parseConfig(raw: unknown, source = 'configuración'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
      return `  - ${field || '(raíz)'}: ${issue.message}`;
    });
    throw new UsageError(`${source} inválida:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The configuration from a JSON file (VENTAS_CONFIG or --config), or the built-in defaults. */
export function loadConfig(path: string | undefined = env().VENTAS_CONFIG): Config {
  if (!path) return parseConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`no se puede leer el archivo de configuración ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`el archivo de configuración ${path} no es JSON válido: ${(error as Error).message}`);
  }
  return parseConfig(raw, `configuración (${path})`);
}
