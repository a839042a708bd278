/**
 * Every command of `ventas`: its options and help, nothing more. `ventas --help` loads only this file (commander and
 * the option parsers); a command's own module (database, KLK client, pg-boss, the dashboard) is imported when that
 * command runs.
 */
import { join } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_OPTIONS as SIM_DEFAULTS } from '../sim/defaults.ts';
import type { BackfillFlags } from './backfill.ts';
import type { DaemonFlags } from './daemon.ts';
import type { DemoFlags } from './demo.ts';
import type { EtlFlags } from './etl.ts';
import type { GapsFlags } from './gaps.ts';
import type { KlkSimFlags } from './klk-sim.ts';
import type { Cli } from './main.ts';
import { addWindowOptions, portNumber, positiveInt, REPORT_FORMATS } from './options.ts';
import type { PlanFlags } from './plan.ts';
import type { QuarantineFlags } from './quarantine.ts';
import type { RunsFlags } from './runs.ts';
import type { ServeFlags } from './serve.ts';
import type { VerifyFlags } from './verify.ts';
import type { WorkerFlags } from './worker.ts';

const DEFAULT_DEMO_SCALE = 0.02;
const DEFAULT_QUARANTINE_LIMIT = 50;

function demoScale(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 2)
    throw new InvalidArgumentError('--scale debe ser un número mayor que 0 y hasta 2 (1 = volumen real).');
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new InvalidArgumentError('--cycle-seconds debe ser un número de segundos mayor que 0 y hasta 86400.');
  return n;
}

/** Adds the commands in the order `ventas --help` lists them. */
export function registerCommands(cli: Cli): void {
  const { program } = cli;

  // `ventas etl`: the seed's ETL, flag for flag.
  program
    .command('etl')
    .description('Extrae ventas de KLK y las carga en la tabla ventas (compatible con etl_ventas_postgres.py)')
    .option('--tiendas <ids...>', 'tiendas a procesar (p. ej. tienda_01 tienda_02); por defecto todas las activas')
    .option('--todas', 'todas las tiendas activas')
    .option('--fecha-desde <fecha>', 'inicio "YYYY-MM-DD HH:MM" (hora local de la tienda)')
    .option('--fecha-hasta <fecha>', 'fin "YYYY-MM-DD HH:MM", incluido hasta el final de ese minuto')
    .option('--chunk-days <n>', 'días por petición a KLK', positiveInt('--chunk-days'))
    .option('--minutos <n>', 'modo incremental: minutos hacia atrás (más 60 de solape)', positiveInt('--minutos'), 30)
    .option('--recovery-mode', 'recupera el día completo de hace --recovery-days días')
    .option('--recovery-days <n>', 'días hacia atrás del modo recuperación', positiveInt('--recovery-days'), 1)
    .option('--dry-run', 'extrae y valida sin escribir nada')
    .option('--no-gap-recovery', 'no revisa las horas vacías de las últimas 6 horas')
    .option('--concurrency <n>', 'peticiones simultáneas a KLK (por defecto 3)', positiveInt('--concurrency'))
    .option('--now <fecha>', 'hora local de referencia "YYYY-MM-DD HH:MM" (por defecto, ahora)')
    .option('--klk-url <url>', 'URL base de KLK (por defecto KLK_BASE_URL)')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .addOption(new Option('--format <formato>', 'formato del resumen').choices(['table', 'json']).default('table'))
    .action(cli.action(async (flags: EtlFlags) => (await import('./etl.ts')).etlCommand(cli, flags)));

  // `ventas gaps`: coverage per store and day, gaps, patterns and priorities.
  addWindowOptions(
    program
      .command('gaps')
      .description('Cobertura y huecos por tienda y día: faltantes, parciales, patrones y prioridades'),
    REPORT_FORMATS,
  ).action(cli.action(async (flags: GapsFlags) => (await import('./gaps.ts')).gapsCommand(cli, flags)));

  // `ventas plan`: the backfill plan from the gaps.
  addWindowOptions(
    program.command('plan').description('Planifica el backfill de los huecos: fases, comandos y tiempo estimado'),
    ['table', 'markdown', 'bash', 'json'],
  )
    .option(
      '--concurrency <n>',
      'peticiones simultáneas a KLK supuestas en la estimación',
      positiveInt('--concurrency'),
    )
    .option('--program <cmd>', 'cómo se invoca ventas en los comandos generados', 'npx ventas')
    .action(cli.action(async (flags: PlanFlags) => (await import('./plan.ts')).planCommand(cli, flags)));

  // `ventas backfill`: plans (or takes --plan) and executes, in parallel and resumable.
  addWindowOptions(
    program.command('backfill').description('Recupera los huecos: planifica y ejecuta en paralelo, reanudable'),
    ['table', 'json'],
  )
    .option('--plan <archivo>', 'ejecuta un plan guardado con `ventas plan --format json`')
    .option('--concurrency <n>', 'peticiones simultáneas a KLK (por defecto 3)', positiveInt('--concurrency'))
    .option(
      '--resume [id]',
      'termina un backfill sin terminar: el indicado, o el de esta misma ventana y tiendas (con --from/--to/--stores), o el último',
    )
    .option('--mirror', 'borra las líneas que KLK ya no tiene, solo en días con respuesta verificada completa')
    .option('--dry-run', 'muestra el plan sin escribir nada')
    .option('--klk-url <url>', 'URL base de KLK (por defecto KLK_BASE_URL)')
    .option('--queue', 'pone los bloques en la cola para `ventas worker` en una o más máquinas (requiere PostgreSQL)')
    .option('--wait', 'con --queue: espera con progreso a que los trabajadores terminen')
    .action(cli.action(async (flags: BackfillFlags) => (await import('./backfill.ts')).backfillCommand(cli, flags)));

  // `ventas verify`: the coverage report, before/after the last backfill, and optionally KLK itself.
  addWindowOptions(
    program
      .command('verify')
      .description(
        'Verifica la cobertura: el informe de huecos, antes/después del último backfill y, con --reconcile, contra KLK',
      ),
    REPORT_FORMATS,
  )
    .option('--reconcile', 'pide a KLK cada día-tienda esperado y compara líneas y total USD con la tabla')
    .option(
      '--concurrency <n>',
      'peticiones simultáneas a KLK al conciliar (por defecto 3)',
      positiveInt('--concurrency'),
    )
    .option('--klk-url <url>', 'URL base de KLK (por defecto KLK_BASE_URL)')
    .addHelpText(
      'after',
      [
        '',
        'Código de salida (para alertas de cron):',
        '  0  todos los días-tienda esperados del período están completos (y coinciden con KLK, con --reconcile)',
        '  1  falta algún día-tienda, hay parciales, hay deriva (la tabla tiene líneas que KLK ya no tiene)',
        '     o alguna tienda no se pudo conciliar con KLK',
        '  2  opciones inválidas',
        '  3  base de datos o KLK inalcanzable',
      ].join('\n'),
    )
    .action(cli.action(async (flags: VerifyFlags) => (await import('./verify.ts')).verifyCommand(cli, flags)));

  // `ventas quarantine`: the lines KLK sent that were not loaded, and why (a rejected day's lines among them).
  program
    .command('quarantine')
    .description('Lista las líneas de KLK que no se cargaron (en cuarentena) y el motivo, las más recientes primero')
    .option('--stores <ids>', 'tiendas separadas por coma (p. ej. tienda_03); por defecto todas')
    .option('--from <YYYY-MM-DD>', 'primer día de venta (incluido); por defecto sin límite')
    .option('--to <YYYY-MM-DD>', 'último día de venta (incluido); por defecto sin límite')
    .option(
      '--limit <n>',
      `cuántas líneas mostrar como mucho (por defecto ${DEFAULT_QUARANTINE_LIMIT})`,
      positiveInt('--limit'),
      DEFAULT_QUARANTINE_LIMIT,
    )
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .addOption(new Option('--format <formato>', 'formato de salida').choices(['table', 'json']).default('table'))
    .action(
      cli.action(async (flags: QuarantineFlags) => (await import('./quarantine.ts')).quarantineCommand(cli, flags)),
    );

  // `ventas runs [show ID | cancel ID]`: the ETL and backfill runs, one in detail, or one cancelled.
  const formatOption = () =>
    new Option('--format <formato>', 'formato de salida').choices(['table', 'json']).default('table');
  const configOption = () =>
    new Option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)');
  const runs = program
    .command('runs')
    .description('Ejecuciones del ETL y backfills: lista, detalle (show ID) y cancelación (cancel ID)')
    .addHelpText(
      'after',
      [
        '',
        'Identificadores: un número es un backfill (el runId de su JSON y de /api/runs/ID, p. ej. 12);',
        'etl-N es una ejecución del ETL (p. ej. etl-7).',
      ].join('\n'),
    );
  // The default: `ventas runs [--limit N] [--format json]` is `ventas runs list ...`.
  runs
    .command('list', { isDefault: true })
    .description('Las últimas ejecuciones, de la más nueva a la más vieja (por defecto)')
    .option('--limit <n>', 'cuántas, de la más nueva a la más vieja', positiveInt('--limit'), 20)
    .addOption(formatOption())
    .addOption(configOption())
    .action(cli.action(async (flags: RunsFlags) => (await import('./runs.ts')).runsListCommand(cli, flags)));
  runs
    .command('show')
    .description('Todo sobre una ejecución: bloques, tiendas, errores y cómo reanudarla')
    .argument('<id>', 'número del backfill (12) o etl-N (etl-7)')
    .addOption(formatOption())
    .addOption(configOption())
    .action(
      cli.action(async (id: string, flags: Omit<RunsFlags, 'limit'>) =>
        (await import('./runs.ts')).runsShowCommand(cli, id, flags),
      ),
    );
  runs
    .command('cancel')
    .description(
      'Cancela un backfill sin terminar (lo pendiente ya no se ejecuta) o cierra una ejecución del ETL cuyo proceso murió',
    )
    .argument('<id>', 'número del backfill (12) o etl-N (etl-7)')
    .addOption(formatOption())
    .action(
      cli.action(async (id: string, flags: Pick<RunsFlags, 'format'>) =>
        (await import('./runs.ts')).runsCancelCommand(cli, id, flags),
      ),
    );

  // `ventas worker`: runs queued chunks until SIGTERM.
  program
    .command('worker')
    .description(
      'Trabajador del backfill distribuido: ejecuta los bloques en cola; tantos como se quiera, en cualquier máquina',
    )
    .option(
      '--concurrency <n>',
      'bloques a la vez en este trabajador (por defecto el límite por KLK de la configuración, 3)',
      positiveInt('--concurrency'),
    )
    .option(
      '--lease-seconds <s>',
      'concesión de cada bloque: si este trabajador se cuelga, otro lo toma cuando vence (si muere, en segundos)',
      positiveInt('--lease-seconds'),
      120,
    )
    .option('--klk-url <url>', 'URL base de KLK (por defecto KLK_BASE_URL)')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .action(cli.action(async (flags: WorkerFlags) => (await import('./worker.ts')).workerCommand(cli, flags)));

  // `ventas daemon`: the table keeps itself complete (one cycle with `--once`).
  program
    .command('daemon')
    .description(
      'Mantiene la tabla completa: sincroniza, recupera, revisa, repara dentro del presupuesto y avisa de incidentes',
    )
    .option('--once', 'un solo ciclo y termina: 0 si no queda ningún incidente abierto, 1 si queda alguno')
    .option('--port <n>', 'puerto HTTP (sin --once)', portNumber, 8080)
    .option('--host <host>', 'dirección de escucha; fuera de 127.0.0.1/localhost exige VENTAS_API_TOKEN', '127.0.0.1')
    .option(
      '--cycle-seconds <s>',
      'segundos reales entre ciclos (por defecto daemon.syncEveryMinutes del reloj de ventas)',
      positiveSeconds,
    )
    .option(
      '--metrics-file <archivo>',
      'con --once: escribe las métricas del ciclo (Prometheus) en este archivo, para el colector textfile de node_exporter',
    )
    .option('--klk-url <url>', 'URL base de KLK (por defecto KLK_BASE_URL)')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .addOption(new Option('--format <formato>', 'formato del resumen').choices(['table', 'json']).default('table'))
    .action(cli.action(async (flags: DaemonFlags) => (await import('./daemon.ts')).daemonCommand(cli, flags)));

  // `ventas klk-sim`: the KLK stand-in.
  program
    .command('klk-sim')
    .description('Simulador de KLK (POST /ventas) para pruebas, demo y benchmarks: datos deterministas y fallos.')
    .option('--port <n>', 'puerto (0: uno libre)', String(SIM_DEFAULTS.port))
    .option('--host <host>', 'dirección donde escuchar', SIM_DEFAULTS.host)
    .option('--seed <n>', 'semilla: la misma semilla da las mismas respuestas', String(SIM_DEFAULTS.seed))
    .option('--scale <f>', 'multiplica las líneas por tienda-día (1: unas 6.000-16.000)', String(SIM_DEFAULTS.scale))
    .option('--duplicate-rate <f>', 'fracción de líneas repetidas en la respuesta')
    .option('--fail-rate <f>', 'fracción de peticiones que fallan con HTTP 500/502/503')
    .option('--error-payload-rate <f>', 'fracción de respuestas HTTP 200 {"error": ...}')
    .option('--truncate-rate <f>', 'fracción de respuestas cortadas a la mitad')
    .option('--list-rate <f>', 'fracción de respuestas como lista JSON sin meta')
    .option('--latency-ms <base,por1000>', 'demora antes de responder: base + ms por cada 1.000 líneas')
    .option('--max-lines <n>', 'respuestas con más líneas se cuelgan y terminan en 504')
    .option('--hang-ms <ms>', 'cuánto se cuelga una respuesta demasiado grande', String(SIM_DEFAULTS.hangMs))
    .option('--replay <archivo>', 'responde toda petición con el contenido de este archivo, tal cual')
    .option('--void-rate <f>', 'fracción de facturas anuladas en el origen')
    .option('--now <"YYYY-MM-DD HH:MM">', 'reloj del simulador, hora local de las tiendas (por omisión el real)')
    .option('--config <archivo>', 'archivo de configuración (por omisión VENTAS_CONFIG o el catálogo incluido)')
    .action(cli.action(async (flags: KlkSimFlags) => (await import('./klk-sim.ts')).klkSimCommand(cli, flags)));

  // `ventas demo` (what `npm start` runs): the whole story on embedded defaults.
  program
    .command('demo')
    .description(
      'La historia completa con PGlite y el simulador: huecos del plan del 2026-01-26, plan, backfill y verificación',
    )
    .option(
      '--scale <f>',
      `volumen de líneas por día respecto del real (por defecto ${DEFAULT_DEMO_SCALE})`,
      demoScale,
      DEFAULT_DEMO_SCALE,
    )
    .option('--seed <n>', 'semilla del simulador', positiveInt('--seed'), 1)
    .option('--concurrency <n>', 'peticiones simultáneas a KLK', positiveInt('--concurrency'), 3)
    .option('--data-dir <dir>', 'carpeta de la base embebida de la demo (se recrea)', join('.ventas', 'demo'))
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .option(
      '--serve [puerto]',
      'tras los huecos y el plan, abre el tablero (puerto 8080 por defecto) para lanzar el backfill desde el navegador',
      portNumber,
    )
    .action(cli.action(async (flags: DemoFlags) => (await import('./demo.ts')).demoCommand(cli, flags)));

  // `ventas db migrate`: applies pending migrations (they are also applied on every start).
  program
    .command('db')
    .description('Operaciones sobre la base de datos')
    .command('migrate')
    .description('Aplica las migraciones pendientes (DATABASE_URL, o PGlite en ./.ventas/)')
    .action(cli.action(async () => (await import('./db.ts')).dbMigrateCommand(cli)));

  // `ventas serve`: the dashboard and its HTTP API, until Ctrl+C.
  program
    .command('serve')
    .description('Tablero web y API HTTP: mapa de cobertura, plan y backfill con progreso en vivo')
    .option('--port <n>', 'puerto', portNumber, 8080)
    .option('--host <host>', 'dirección de escucha; fuera de 127.0.0.1/localhost exige VENTAS_API_TOKEN', '127.0.0.1')
    .option('--from <YYYY-MM-DD>', 'primer día que muestra la página al abrir (por defecto 89 días antes de --to)')
    .option('--to <YYYY-MM-DD>', 'último día que muestra la página al abrir (por defecto ayer)')
    .option('--stores <ids>', 'tiendas que muestra la página al abrir (por defecto todas)')
    .option('--klk-url <url>', 'URL base de KLK para el backfill (por defecto KLK_BASE_URL)')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .option(
      '--data-dir <dir>',
      'carpeta de la base embebida (PGlite) en vez de DATABASE_URL; la de la demo es .ventas/demo',
    )
    .option('--concurrency <n>', 'peticiones simultáneas a KLK durante el backfill', positiveInt('--concurrency'))
    .action(cli.action(async (flags: ServeFlags) => (await import('./serve.ts')).serveCommand(cli, flags)));
}
