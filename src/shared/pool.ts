import PQueue from 'p-queue';

/**
 * Runs `fn` over `items` with at most `limit` in flight (a p-queue), keeping results in input order. After a failure
 * no new item starts, and the first error is thrown only once the items already running have settled: the caller's
 * cleanup (leases released, run recorded) never runs under work still writing.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let failure: { error: unknown } | null = null;
  const queue = new PQueue({ concurrency: Math.max(1, limit) });
  // Told as the item fails, before the queue starts the next one: the queue is emptied first.
  queue.on('error', (error: unknown) => {
    failure ??= { error };
    queue.clear();
  });
  items.forEach((item, index) => {
    // Its error is the 'error' event's; the queue's idleness says when all have settled.
    queue.add(async () => void (results[index] = await fn(item, index))).catch(() => undefined);
  });
  await queue.onIdle();
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

/** The lists' items taken in turns (first of each, then second of each...), so every list advances from the start. */
export function roundRobin<T>(lists: ReadonlyArray<readonly T[]>): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
