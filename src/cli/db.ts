import { describeDb, migrate, openDb } from '../db/index.ts';
import type { Cli } from './main.ts';

/** `ventas db migrate`: applies pending migrations (they are also applied on every start). */
export async function dbMigrateCommand(cli: Cli): Promise<void> {
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
}
