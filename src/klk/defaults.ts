/**
 * What a KLK request gets unless the configuration says otherwise: written here once, for the config file's defaults
 * (catalogue/config.ts) and for a client made without them (tests, the demo, the bench).
 */
export const KLK_DEFAULTS = {
  /** Per attempt, headers and whole body included. */
  timeoutMs: 120_000,
  attempts: 4,
  /** Requests in flight per KLK. */
  concurrency: 3,
} as const;
