/**
 * Start-up: `ventas --help` as installed (bin/ventas on dist/, compiled at the start of the benchmark) against a
 * bare `node -e 0`, the floor of any Node command. Both are started the same way, one after the other, so the load
 * of the machine weighs on both alike; the figure is the ratio of their medians.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median, progress, ROOT } from './lib.ts';

export interface CliStartResult {
  runs: number;
  help: { medianMs: number; runsMs: number[] };
  node: { medianMs: number; runsMs: number[] };
  /** help.medianMs / node.medianMs */
  ratio: number;
}

/** Wall time of `node ARGS` to its exit, output discarded. */
function timeNode(args: string[]): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (child.status !== 0)
    throw new Error(
      `node ${args.join(' ')} terminó con código ${child.status}: ${child.stderr.toString().slice(-2000)}`,
    );
  return ms;
}

export function benchCliStart(runs = 21): CliStartResult {
  progress(`arranque: ventas --help y node -e 0, ${runs} veces cada uno`);
  const help = [join(ROOT, 'bin', 'ventas'), '--help'];
  const bare = ['-e', '0'];
  // A first run of each off the record: the files come into the page cache as they would on a used machine.
  timeNode(help);
  timeNode(bare);
  const helpMs: number[] = [];
  const nodeMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    helpMs.push(timeNode(help));
    nodeMs.push(timeNode(bare));
  }
  const result = {
    runs,
    help: { medianMs: median(helpMs), runsMs: helpMs },
    node: { medianMs: median(nodeMs), runsMs: nodeMs },
    ratio: median(helpMs) / median(nodeMs),
  };
  progress(
    `arranque: ventas --help ${Math.round(result.help.medianMs)} ms, node -e 0 ${Math.round(result.node.medianMs)} ms`,
  );
  return result;
}
