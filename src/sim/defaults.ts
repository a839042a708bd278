import type { SimOptions } from './options.ts';

/** The simulator's defaults, apart from its code: `ventas klk-sim --help` shows them without loading the generator. */
export const DEFAULT_OPTIONS: SimOptions = {
  seed: 1,
  scale: 1,
  host: '127.0.0.1',
  port: 7002,
  voidRate: 0,
  duplicateRate: 0,
  failRate: 0,
  errorPayloadRate: 0,
  truncateRate: 0,
  listRate: 0,
  latencyMs: [0, 0],
  maxLines: null,
  hangMs: 130_000,
  replay: null,
};
