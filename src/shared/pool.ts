/**
 * Runs `fn` over `items` with at most `limit` in flight, keeping results in input order. After a failure no new item
 * starts, and the first error is thrown only once the items already running have settled: the caller's cleanup
 * (leases released, run recorded) never runs under work still writing.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && failure === null) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

/** The lists' items taken in turns (first of each, then second of each...), so every list advances from the start. */
export function roundRobin<T>(lists: ReadonlyArray<readonly T[]>): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
