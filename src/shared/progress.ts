import cliProgress from 'cli-progress';
import { int } from './format.ts';

export interface ProgressView {
  update(done: number, total: number, payload: { lines: number; unit: string }): void;
  stop(): void;
}

/**
 * Progress of long work: a live bar on a terminal (done, lines per second, ETA), a plain line every few seconds
 * otherwise, so logs of scheduled runs stay readable.
 */
export function createProgress(options: {
  isTty: boolean;
  label: string;
  write: (line: string) => void;
  intervalMs?: number;
}): ProgressView {
  const started = Date.now();
  if (options.isTty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${options.label} |{bar}| {percentage}% · {value}/{total} {unit} · {rate} líneas/s · ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        // Counts in Spanish (1.633/1.633), like every other number we print.
        formatValue: (value: number, _options: unknown, type: string) =>
          type === 'value' || type === 'total' ? int(value) : String(value),
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    let startedBar = false;
    return {
      update(done, total, { lines, unit }) {
        const rate = int(lines / Math.max(0.001, (Date.now() - started) / 1000));
        if (!startedBar) {
          bar.start(total, done, { rate, unit });
          startedBar = true;
        }
        bar.setTotal(total);
        bar.update(done, { rate, unit });
      },
      stop: () => startedBar && bar.stop(),
    };
  }
  let last = 0;
  let lastLine = '';
  let printed = '';
  return {
    update(done, total, { lines, unit }) {
      const now = Date.now();
      const seconds = (now - started) / 1000;
      const eta = done > 0 ? Math.round((seconds / done) * (total - done)) : null;
      lastLine = `${options.label}: ${int(done)}/${int(total)} ${unit} · ${int(lines)} líneas · ${int(lines / Math.max(seconds, 0.001))} líneas/s${eta === null ? '' : ` · ETA ${eta} s`}`;
      const finished = done === total;
      if ((now - last >= (options.intervalMs ?? 5_000) || finished) && lastLine !== printed) {
        last = now;
        printed = lastLine;
        options.write(lastLine);
      }
    },
    stop() {},
  };
}
