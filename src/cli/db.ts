import { describeDb, migrate, openDb } from '../db/index.ts';
import type { Cli } from './main.ts';

/** `ventas db migrate`: applies pending migrations (they are also applied on every start). */
export function registerDb(cli: Cli): void {
  const db = cli.program.command('db').description('Operaciones sobre la base de datos');
  db.command('migrate')
    .description('Aplica las migraciones pendientes (DATABASE_URL, o PGlite en ./.ventas/)')
    .action(
      cli.action(async () => {
        const where = await describeDb();
        const database = await openDb({ migrate: false });
        try {
          const { applied } = await migrate(database);
          cli.io.out(
            applied.length === 0
              ? `Esquema al día en ${where}: no hay migraciones pendientes.`
              : `Migraciones aplicadas en ${where}:\n${applied.map((m) => `  - ${m}`).join('\n')}`,
          );
        } finally {
          await database.close();
        }
      }),
    );
}
