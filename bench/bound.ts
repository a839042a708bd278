/**
 * How fast a set of KLK requests could possibly be served: the lower bound a run's wall time is compared with.
 * KLK serves a few requests at a time (`slots`) and a store's requests one after another, so no schedule ends before
 * the longest store's requests end, nor before the requests, packed into the slots as well as they can be, end.
 * Pure, so it is tested apart from the bench.
 */

/**
 * A time no packing of `durations` onto `slots` parallel servers (each request whole, on one) can beat: the longest
 * request, the even split, or two of the slots+1 longest on one server, whichever is longest. For the bench's
 * requests (many, of similar length) the best packing is within a fraction of a per cent of it: searching for that
 * packing would change nothing the figures show.
 */
export function packingBound(durations: readonly number[], slots: number): number {
  const jobs = [...durations].sort((a, b) => b - a);
  if (jobs.length === 0) return 0;
  const total = jobs.reduce((n, d) => n + d, 0);
  return Math.max(jobs[0]!, total / slots, jobs.length > slots ? jobs[slots - 1]! + jobs[slots]! : 0);
}

/** The lower bound of a run's requests: `byStore` the durations of each store's requests, `slots` KLK's limit. */
export function requestsLowerBound(byStore: ReadonlyMap<string, readonly number[]>, slots: number): number {
  const chains = [...byStore.values()].map((ds) => ds.reduce((n, d) => n + d, 0));
  return Math.max(0, ...chains, packingBound([...byStore.values()].flat(), slots));
}
