import { loadConfig } from '../catalogue/config.ts';
import { UsageError } from '../shared/errors.ts';
import { parseSettings, startSimulator } from '../sim/index.ts';
import type { Cli } from './main.ts';

export interface KlkSimFlags {
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

/** `ventas klk-sim`: the KLK stand-in. */
export async function klkSimCommand(cli: Cli, flags: KlkSimFlags): Promise<void> {
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
}
