import { loadConfig, type Config } from '../catalogue/index.ts';
import { openDb } from '../db/index.ts';
import type { DatabaseEvent } from '../db/reconnect.ts';
import type { Db } from '../db/types.ts';
import type { Cli } from './main.ts';
import { env } from '../shared/env.ts';
import { seconds } from '../shared/format.ts';
import { UsageError } from '../shared/errors.ts';

export const DEFAULT_KLK_URL = 'http://127.0.0.1:7002';

/** Configuration by precedence: flags, then environment, then the config file, then defaults. */
export function resolveConfig(flags: { config?: string }): Config {
  return loadConfig(flags.config ?? env().VENTAS_CONFIG);
}

/** `readOnly` for a dry run: the database refuses any write, whatever path the command takes. */
export function openDatabase(cli: Pick<Cli, 'host'>, options: { readOnly?: boolean } = {}): Promise<Db> {
  return cli.host.openDatabase?.(options) ?? openDb({ databaseUrl: env().DATABASE_URL, readOnly: options.readOnly });
}

export function klkBaseUrl(config: Config, flag?: string): string {
  const url = flag ?? env().KLK_BASE_URL ?? config.klk.baseUrl ?? DEFAULT_KLK_URL;
  const parsed = URL.canParse(url) ? new URL(url) : null;
  // `localhost:7002` parses with "localhost:" as its scheme; credentials in it would end up in every error and log.
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password) {
    const shown = parsed?.username || parsed?.password ? `${parsed.protocol}//${parsed.host}` : url;
    throw new UsageError(
      `URL de KLK inválida: "${shown}" (se espera http:// o https:// con host y puerto, p. ej. http://host:7002, sin usuario ni clave: el token va en KLK_API_TOKEN)`,
    );
  }
  return url.replace(/\/+$/, '');
}
/** A lost database, or its return, as a command tells it on stderr while it waits (`work`: "el backfill"...). */
export function describeDatabaseEvent(event: DatabaseEvent, work: string): string {
  if (event.state === 'back')
    return `La base de datos responde de nuevo (tras ${seconds(event.downMs)}): ${work} sigue.`;
  const wait = Number.isFinite(event.patienceMs) ? `hasta ${seconds(event.patienceMs)}` : 'sin límite';
  return `Se perdió la conexión con la base de datos (${event.detail}): ${work} espera a que vuelva (${wait}), probando de nuevo con pausas crecientes.`;
}
