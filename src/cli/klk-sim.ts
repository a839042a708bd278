import { loadConfig } from '../catalogue/config.ts';
import { UsageError } from '../shared/errors.ts';
import { DEFAULT_OPTIONS, parseSettings, startSimulator } from '../sim/index.ts';
import type { Cli } from './main.ts';

interface KlkSimFlags {
  port: string;
  host: string;
  seed: string;
  scale: string;
  config?: string;
  [setting: string]: string | undefined;
}

/** Flags that are runtime settings of the simulator (the same names, camelCase, as `POST /__sim/faults`). */
const SETTING_FLAGS = [
  'voidRate',
  'duplicateRate',
  'failRate',
  'errorPayloadRate',
  'truncateRate',
  'listRate',
  'latencyMs',
  'maxLines',
  'hangMs',
  'replay',
  'now',
] as const;

function integerFlag(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${name} inválido: ${JSON.stringify(value)}. Se espera un entero entre ${min} y ${max}.`);
  }
  return n;
}

function positiveFlag(name: string, value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(n > 0)) {
    throw new UsageError(`${name} inválido: ${JSON.stringify(value)}. Se espera un número mayor que 0 (p. ej. 0.01).`);
  }
  return n;
}

/** Waits for SIGINT or SIGTERM. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `ventas klk-sim`: the KLK stand-in (spec section 10). */
export function registerKlkSim(cli: Cli): void {
  cli.program
    .command('klk-sim')
    .description('Simulador de KLK (POST /ventas) para pruebas, demo y benchmarks: datos deterministas y fallos.')
    .option('--port <n>', 'puerto (0: uno libre)', String(DEFAULT_OPTIONS.port))
    .option('--host <host>', 'dirección donde escuchar', DEFAULT_OPTIONS.host)
    .option('--seed <n>', 'semilla: la misma semilla da las mismas respuestas', String(DEFAULT_OPTIONS.seed))
    .option('--scale <f>', 'multiplica las líneas por tienda-día (1: unas 6.000-16.000)', String(DEFAULT_OPTIONS.scale))
    .option('--duplicate-rate <f>', 'fracción de líneas repetidas en la respuesta')
    .option('--fail-rate <f>', 'fracción de peticiones que fallan con HTTP 500/502/503')
    .option('--error-payload-rate <f>', 'fracción de respuestas HTTP 200 {"error": ...}')
    .option('--truncate-rate <f>', 'fracción de respuestas cortadas a la mitad')
    .option('--list-rate <f>', 'fracción de respuestas como lista JSON sin meta')
    .option('--latency-ms <base,por1000>', 'demora antes de responder: base + ms por cada 1.000 líneas')
    .option('--max-lines <n>', 'respuestas con más líneas se cuelgan y terminan en 504')
    .option('--hang-ms <ms>', 'cuánto se cuelga una respuesta demasiado grande', String(DEFAULT_OPTIONS.hangMs))
    .option('--replay <archivo>', 'responde toda petición con el contenido de este archivo, tal cual')
    .option('--void-rate <f>', 'fracción de facturas anuladas en el origen')
    .option('--now <"YYYY-MM-DD HH:MM">', 'reloj del simulador, hora local de las tiendas (por omisión el real)')
    .option('--config <archivo>', 'archivo de configuración (por omisión VENTAS_CONFIG o el catálogo incluido)')
    .action(
      cli.action(async (flags: KlkSimFlags) => {
        const config = loadConfig(flags.config);
        const raw = Object.fromEntries(SETTING_FLAGS.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
        const settings = parseSettings(raw, config.stores[0]?.timeZone ?? 'America/Caracas');
        const options = {
          ...settings,
          port: integerFlag('--port', flags.port, 0, 65_535),
          host: flags.host,
          seed: integerFlag('--seed', flags.seed, 0, 2 ** 31 - 1),
          scale: positiveFlag('--scale', flags.scale),
          stores: config.stores,
          closedDays: config.closedDays,
        };
        let sim;
        try {
          sim = await startSimulator(options);
        } catch (error) {
          throw new UsageError(`no se puede escuchar en ${flags.host}:${flags.port}: ${(error as Error).message}`);
        }
        const stopped = stopSignal();
        cli.io.out(`listening on ${sim.url}`);
        await stopped;
        await sim.close();
      }),
    );
}
