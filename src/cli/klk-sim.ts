import type { Cli } from './main.ts';

/** `ventas klk-sim`. */
export function registerKlkSim(_cli: Cli): void {
  // filled in with the simulator
}
