import { resolveWindow } from '../catalogue/index.ts';
import {
  computeCoverage,
  renderCsv,
  renderMarkdown,
  renderTable,
  toJson,
  type CoverageReport,
} from '../coverage/index.ts';
import { openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';
import type { ReportFormat, WindowFlags } from './options.ts';

export interface GapsFlags extends WindowFlags {
  format: ReportFormat;
}

/** The coverage report in one of the formats of `gaps` and `verify`; colour only on a terminal. */
export function renderCoverage(report: CoverageReport, format: ReportFormat, isTty: boolean): string {
  switch (format) {
    case 'json':
      return JSON.stringify(toJson(report));
    case 'markdown':
      return renderMarkdown(report);
    case 'csv':
      return renderCsv(report);
    case 'table':
      return renderTable(report, { color: isTty });
  }
}

/** `ventas gaps`: coverage per store and day, gaps, patterns and priorities. */
export async function gapsCommand(cli: Cli, flags: GapsFlags): Promise<void> {
  const config = resolveConfig(flags);
  const window = resolveWindow(flags, config);
  const db = await openDatabase(cli);
  try {
    const report = await computeCoverage(db, config, window);
    cli.io.out(renderCoverage(report, flags.format, cli.io.isTty));
  } finally {
    await db.close();
  }
}
