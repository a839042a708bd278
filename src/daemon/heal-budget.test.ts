import { describe, expect, it } from 'vitest';
import { KlkError, type FetchOptions, type KlkClient, type KlkRequest } from '../klk/index.ts';
import { fakeKlk } from '../../test/support/fake-klk.ts';
import { budgetedKlk, HealBudgetSpent } from './heal-budget.ts';

/**
 * A KLK client that fails every attempt it is allowed (as the real one does when KLK keeps answering 503: it tries
 * `attempts` times, then gives up), counting them; `answerOn` makes the attempt of that number succeed.
 */
function failingKlk(answerOn = Infinity): KlkClient & { attempts: number; allowed: number[] } {
  const counted = { attempts: 0, allowed: [] as number[] };
  const answering = fakeKlk(() => ({ lines: [] }));
  return Object.assign(counted, {
    stats: () => answering.stats(),
    async fetchVentas(...[request, newCollector, options = {}]: Parameters<KlkClient['fetchVentas']>) {
      const allowed = options.attempts ?? 4;
      counted.allowed.push(allowed);
      for (let n = 1; n <= allowed; n++) {
        counted.attempts++;
        await Promise.resolve();
        if (n === answerOn) {
          const answer = await answering.fetchVentas(request, newCollector, options);
          return { ...answer, info: { ...answer.info, attempts: n } };
        }
      }
      throw new KlkError('http', 'KLK: HTTP 503', allowed, 503);
    },
  }) as KlkClient & { attempts: number; allowed: number[] };
}

const request: KlkRequest = {
  sucursal: '01',
  almacen: '01',
  window: { fechaDesde: '2026-01-10', fechaHasta: '2026-01-10' },
};
const ask = (klk: KlkClient, options?: FetchOptions) =>
  klk
    .fetchVentas(request, () => ({ add() {} }), options)
    .then(
      () => 'ok',
      (e: Error) => e.name,
    );

describe('the heal budget on KLK requests', () => {
  it('lets retries through only out of what the calls still to come do not need, failing or not', async () => {
    // Budget 5 for 3 store-days: 2 spare attempts for retries, whatever the order the calls fail in.
    const inner = failingKlk();
    const klk = budgetedKlk(inner, { requests: 5, calls: 3, attempts: 4 });
    expect(await Promise.all([ask(klk), ask(klk), ask(klk)])).toEqual(['KlkError', 'KlkError', 'KlkError']);
    expect(inner.attempts).toBe(5);
    expect(klk.spent()).toBe(5);
    // The first call could take both spare attempts; the others still had their first.
    expect(inner.allowed).toEqual([3, 1, 1]);
  });

  it('hands back what a call did not use, for the next calls to retry with', async () => {
    const inner = failingKlk(1);
    const klk = budgetedKlk(inner, { requests: 4, calls: 2, attempts: 4 });
    expect(await ask(klk)).toBe('ok');
    expect(klk.spent()).toBe(1);
    const failing = failingKlk();
    const again = budgetedKlk(failing, { requests: 4, calls: 2, attempts: 4 });
    expect([await ask(again), await ask(again)]).toEqual(['KlkError', 'KlkError']);
    // 3 for the first (one kept for the second's first attempt), the 1 left for the second.
    expect(failing.allowed).toEqual([3, 1]);
    expect(again.spent()).toBe(4);
  });

  it('never exceeds the budget: a call beyond it is refused without a request, and the caller’s attempts cap', async () => {
    const inner = failingKlk();
    const klk = budgetedKlk(inner, { requests: 2, calls: 2, attempts: 4 });
    expect(await ask(klk, { attempts: 1 })).toBe('KlkError');
    expect(await ask(klk)).toBe('KlkError');
    expect(await ask(klk)).toBe(new HealBudgetSpent('').name);
    expect(inner.attempts).toBe(2);
    expect(klk.spent()).toBe(2);
    const none = budgetedKlk(failingKlk(), { requests: 0, calls: 3, attempts: 4 });
    expect(await ask(none)).toBe('HealBudgetSpent');
    expect(none.spent()).toBe(0);
  });
});
