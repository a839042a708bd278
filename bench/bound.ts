/**
 * How fast a set of KLK requests could possibly be served: the lower bound a run's wall time is compared with.
 * KLK serves a few requests at a time (`slots`) and a store's requests one after another, so no schedule ends before
 * the longest store's requests end, nor before the best packing of all the requests into the slots could. Pure, so
 * it is tested apart from the bench.
 */

/**
 * A time no packing of `durations` onto `slots` parallel servers (each request whole, on one) can beat: the best
 * packing's, found by search when the requests are few enough (`maxNodes`), else the longest request, the even
 * split, or two of the slots+1 longest on one server, whichever is longest.
 */
export function packedMakespan(durations: readonly number[], slots: number, maxNodes = 1_000_000): number {
  const jobs = [...durations].filter((d) => d > 0).sort((a, b) => b - a);
  if (jobs.length === 0) return 0;
  const total = jobs.reduce((n, d) => n + d, 0);
  // No packing beats these: the longest request, an even split, and two of the slots+1 longest on one server.
  const floor = Math.max(jobs[0]!, total / slots, jobs.length > slots ? jobs[slots - 1]! + jobs[slots]! : 0);
  // Longest first onto the least loaded server: a schedule, so an upper bound to prune with.
  const greedy = new Array<number>(slots).fill(0);
  for (const d of jobs) greedy[greedy.indexOf(Math.min(...greedy))]! += d;
  let best = Math.max(...greedy);
  const loads = new Array<number>(slots).fill(0);
  let nodes = 0;
  const place = (i: number): boolean => {
    if (++nodes > maxNodes) return false;
    if (i === jobs.length) {
      best = Math.min(best, Math.max(...loads));
      return best > floor;
    }
    const tried = new Set<number>();
    for (let s = 0; s < slots; s++) {
      // Servers with the same load are interchangeable: one of them is enough.
      if (tried.has(loads[s]!) || loads[s]! + jobs[i]! >= best) continue;
      tried.add(loads[s]!);
      loads[s]! += jobs[i]!;
      const go = place(i + 1);
      loads[s]! -= jobs[i]!;
      if (!go) return false;
    }
    return true;
  };
  // Cut short (too many requests to search, or the floor reached): the floor, which no packing beats, or the best found.
  return place(0) || best <= floor ? best : floor;
}

/** The lower bound of a run's requests: `byStore` the durations of each store's requests, `slots` KLK's limit. */
export function requestsLowerBound(byStore: ReadonlyMap<string, readonly number[]>, slots: number): number {
  const chains = [...byStore.values()].map((ds) => ds.reduce((n, d) => n + d, 0));
  return Math.max(0, ...chains, packedMakespan([...byStore.values()].flat(), slots));
}
