import { KlkError, type KlkClient } from '../klk/index.ts';

/**
 * The heal's KLK client on a request budget: every HTTP attempt it lets through, retries included, comes out of
 * `requests`, and never more. Each of the `calls` expected (one per store-day taken, so `calls <= requests`) is sure
 * of its first attempt; retries come only out of what is left beyond the first attempts still to come, reserved
 * before a call starts and handed back when it needed fewer, so requests running at once never overspend it.
 */
export interface BudgetedKlk extends KlkClient {
  /** HTTP attempts made through it (a call cut by the caller counts every attempt it was allowed). */
  spent(): number;
}

export class HealBudgetSpent extends Error {
  override name = 'HealBudgetSpent';
}

export function budgetedKlk(
  inner: KlkClient,
  budget: { requests: number; calls: number; attempts: number },
): BudgetedKlk {
  let remaining = Math.max(0, budget.requests);
  let firstsToCome = Math.min(Math.max(0, budget.calls), remaining);
  let spent = 0;
  return {
    stats: () => inner.stats(),
    spent: () => spent,
    async fetchVentas(request, newCollector, options = {}) {
      if (firstsToCome > 0) firstsToCome--;
      // What this call may use: all but the first attempts promised to the calls still to come.
      const available = remaining - firstsToCome;
      if (available < 1) throw new HealBudgetSpent('presupuesto de peticiones de la reparación agotado en esta hora');
      const allowed = Math.min(options.attempts ?? budget.attempts, available);
      remaining -= allowed;
      let used = allowed;
      try {
        const answer = await inner.fetchVentas(request, newCollector, { ...options, attempts: allowed });
        used = Math.min(allowed, answer.info.attempts);
        return answer;
      } catch (error) {
        if (error instanceof KlkError) used = Math.min(allowed, error.attempts);
        throw error;
      } finally {
        remaining += allowed - used;
        spent += used;
      }
    },
  };
}
