import type { ChildProcessWithoutNullStreams, ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/** A spawned `ventas`: its output so far, a wait for a line of it, and its exit code. */
export interface Watched {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `pattern` has appeared on stdout or stderr; rejects if the process exits first. */
  printed(pattern: RegExp): Promise<void>;
  /** The exit code (null when a signal ended it unhandled). */
  exit: Promise<number | null>;
}

export function watch(child: ChildProcess | ChildProcessWithoutNullStreams): Watched {
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    wake();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exited = false;
  void exit.then(() => {
    exited = true;
    wake();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) return resolve();
          if (exited) return reject(new Error(`terminó sin escribir ${pattern}:\n${stdout}\n${stderr}`));
          waiters.push(check);
        };
        check();
      }),
  };
}

/** Waits until `condition` holds, looking again every few milliseconds (state kept by this process, e.g. a simulator). */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ocurrió a tiempo: ${what}`);
    await delay(10);
  }
}
