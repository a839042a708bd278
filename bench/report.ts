/** The benchmark's figures and their Spanish table (Markdown: readable on a terminal, pasted as is in the README). */
import type { MachineInfo } from './lib.ts';

export interface Figure {
  id: string;
  figure: string;
  measured: { value: number | null; unit: string; text: string };
  comparedWith: { value: number | null; unit: string; text: string };
  target: { text: string; [bound: string]: number | string };
  /** null: a reference without a target. */
  met: boolean | null;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderTable(figures: readonly Figure[], machine: MachineInfo, date: Date): string {
  const lines = [
    `Rendimiento de ventas · ${date.toISOString().slice(0, 10)} · ${machine.cpus} núcleos (${machine.cpuModel}), ${machine.memoryGb} GB de RAM, ` +
      `Node ${machine.node}, PostgreSQL ${machine.postgres}, PGlite ${machine.pglite} · carga del sistema ${machine.loadAverageAtStart[0]} al empezar`,
    '',
    '| Cifra | Medido | Comparado con | Objetivo | Cumple |',
    '|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${cell(f.figure)} | ${cell(f.measured.text)} | ${cell(f.comparedWith.text)} | ${cell(f.target.text)} | ${f.met === null ? '—' : f.met ? 'sí' : 'no'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
