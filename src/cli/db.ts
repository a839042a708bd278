import type { Cli } from './main.ts';

/** `ventas db migrate`. */
export function registerDb(_cli: Cli): void {
  // filled in with the database layer
}
