import { constants } from 'node:os';
import type { Cli } from './main.ts';

/** After the first Ctrl-C or SIGTERM, how long work in flight may take to finish before it is abandoned. */
export const INTERRUPT_GRACE_MS = 20_000;

export interface Interrupt {
  /** Aborted by the first signal: start nothing new, let what is in flight finish. */
  stop: AbortSignal;
  /** Aborted by a second signal, or once the grace has passed: abandon what is in flight (it goes back untouched). */
  abort: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | null;
  /** 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as a shell reports it). */
  exitCode(): number;
  /** Puts the process's default handling back. */
  dispose(): void;
}

/**
 * Ctrl-C and SIGTERM for a command that runs work (a backfill, an ETL run): the first signal stops new work, a second
 * one (or the grace running out) abandons what is in flight; each says so on stderr, after the signal's name.
 */
export function onInterrupt(cli: Cli, say: { first: (graceSeconds: number) => string; second: string }): Interrupt {
  const stop = new AbortController();
  const abort = new AbortController();
  const graceMs = cli.limits.interruptGraceMs ?? INTERRUPT_GRACE_MS;
  let received: NodeJS.Signals | null = null;
  let grace: NodeJS.Timeout | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      cli.io.err(`${signal}: ${say.second}`);
      abort.abort();
      return;
    }
    received = signal;
    cli.io.err(`${signal}: ${say.first(Math.round(graceMs / 1000))}`);
    stop.abort();
    grace = setTimeout(() => abort.abort(), graceMs);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stop: stop.signal,
    abort: abort.signal,
    received: () => received,
    exitCode: () => (received ? 128 + constants.signals[received] : 0),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      clearTimeout(grace);
    },
  };
}
