import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, eachDay, type IsoDate } from '../shared/dates.ts';
import {
  buildPlan,
  chunkDaysFor,
  makespan,
  planChunks,
  requestsFor,
  stepDays,
  type Plan,
  type PlanChunk,
  type PlanInput,
  type PlanStoreInput,
} from './plan.ts';
import { SEED_SCRIPT } from '../../bench/seed-way.ts';
import { seedHistory, seedPlanInput } from '../../test/fixtures/seed.ts';
import { random } from '../../test/support/random.ts';
import { setDay } from '../../test/support/store-days.ts';

const COMMON_GAP = { from: '2026-01-10', to: '2026-01-25' };
const PARAISO_OPENED = '2025-12-06';
/** A day KLK answered with 0 lines for GUACARA, between two of its holes: an unrecorded closure. */
const EMPTY_DAY = { store: 'tienda_09', day: '2025-11-22' };

/** Every store-day the plan requests, once per request that covers it. */
function requestedDays(plan: Plan): string[] {
  return planChunks(plan).flatMap((c) => eachDay(c.dayFrom, c.dayTo).map((d) => `${c.storeId} ${d}`));
}

function store(id: string, extra: Partial<PlanStoreInput> & { holes?: IsoDate[] } = {}): PlanStoreInput {
  const { holes = [], ...rest } = extra;
  return {
    id,
    name: id.toUpperCase(),
    priority: 'BAJA',
    isNew: false,
    coveragePct: 90,
    missingDays: holes.length,
    partialDays: 0,
    linesPerDay: 10_000,
    historyLinesPerDay: null,
    targets: holes.map((day) => ({ day, state: 'missing' })),
    unavailable: [],
    ...rest,
  };
}

/** A chunk's cost under the default model, from its store's volume. */
function requestSecondsOf(chunk: PlanChunk, stores: readonly PlanStoreInput[]): number {
  const perDay = stores.find((s) => s.id === chunk.storeId)!.linesPerDay!;
  return 4 + ((daysBetween(chunk.dayFrom, chunk.dayTo) + 1) * perDay * 2.5) / 1000;
}

function sum(values: readonly number[]): number {
  return values.reduce((x, y) => x + y, 0);
}

function input(stores: PlanStoreInput[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    from: '2026-01-01',
    to: '2026-01-20',
    stores,
    commonGaps: [],
    lineBudget: 30_000,
    defaultLinesPerDay: 12_000,
    // No load time, so the figures below are the requests' alone.
    timing: {
      baseSeconds: 4,
      secondsPer1000Lines: 2.5,
      model: 'default',
      samples: 0,
      load: { baseSeconds: 0, secondsPer1000Lines: 0 },
    },
    concurrency: 3,
    ...extra,
  };
}

describe('the seed situation', () => {
  const rows = seedHistory();
  setDay(rows, EMPTY_DAY.store, EMPTY_DAY.day, { lines: 0, totalUsd: 0, klkLines: 0 });
  const situation = seedPlanInput({}, rows);
  const plan = buildPlan(situation);
  const chunks = planChunks(plan);
  const linesPerDay = new Map(situation.stores.map((s) => [s.id, s.linesPerDay ?? situation.defaultLinesPerDay]));

  it('requests every target store-day exactly once and nothing else (no merge pays off at these volumes)', () => {
    const requested = requestedDays(plan);
    const targets = situation.stores.flatMap((s) => s.targets.map((t) => `${s.id} ${t.day}`));
    expect(new Set(requested).size).toBe(requested.length);
    expect([...requested].sort()).toEqual([...targets].sort());
    expect(situation.stores.some((s) => s.targets.some((t) => t.state === 'partial'))).toBe(true);
  });

  it('never requests a closed or empty day, nor PARAISO before it opened', () => {
    const requested = new Set(requestedDays(plan));
    for (const s of situation.stores)
      for (const day of s.unavailable) expect(requested.has(`${s.id} ${day}`)).toBe(false);
    expect(requested.has(`${EMPTY_DAY.store} 2025-11-21`) && requested.has(`${EMPTY_DAY.store} 2025-11-23`)).toBe(true);
    expect(requested.has(`${EMPTY_DAY.store} ${EMPTY_DAY.day}`)).toBe(false);
    expect([...requested].filter((k) => /^tienda_\d+ (2025-12-25|2026-01-01)$/.test(k))).toEqual([]);
    const paraiso = chunks.filter((c) => c.storeId === 'tienda_18');
    expect(paraiso.length).toBeGreaterThan(0);
    expect(paraiso.every((c) => c.dayFrom >= PARAISO_OPENED)).toBe(true);
    // 25-Dec and 1-Jan for 19 stores, PARAISO's 39 days before opening, GUACARA's empty day.
    expect(plan.unavailableStoreDays).toBe(19 * 2 + 39 + 1);
  });

  it('re-downloads at most 10 % more than is missing (the seed re-downloaded 2.2 times)', () => {
    expect(plan.totals.missingStoreDays).toBe(situation.stores.reduce((n, s) => n + s.targets.length, 0));
    expect(plan.totals.overFetchRatio).toBeLessThanOrEqual(1.1);
    expect(plan.totals.storeDays).toBe(requestedDays(plan).length);
  });

  it('makes fewer requests than the seed script, whose chunks also exceeded the line budget', () => {
    // Its phase 1 ran with --todas: the 19 stores.
    const days = (s: (typeof SEED_SCRIPT)[number]) => daysBetween(s.from.slice(0, 10), s.to.slice(0, 10)) + 1;
    const seedRequests = SEED_SCRIPT.reduce(
      (n, s) => n + (s.stores?.length ?? 19) * requestsFor(days(s), s.chunkDays),
      0,
    );
    expect(seedRequests).toBe(453);
    expect(plan.totals.requests).toBe(chunks.length);
    expect(plan.totals.requests).toBeLessThan(seedRequests);
  });

  it('sizes every chunk under the line budget from the store volume (one day when a day alone exceeds it)', () => {
    for (const c of chunks) {
      const days = daysBetween(c.dayFrom, c.dayTo) + 1;
      const perDay = linesPerDay.get(c.storeId)!;
      expect(days === 1 || days * perDay <= situation.lineBudget).toBe(true);
      expect(days).toBeLessThanOrEqual(chunkDaysFor(situation.lineBudget, perDay));
    }
    for (const step of plan.phases.flatMap((p) => p.steps)) {
      for (const id of step.stores)
        expect(step.chunkDays).toBeLessThanOrEqual(chunkDaysFor(situation.lineBudget, linesPerDay.get(id)!));
    }
    // Without an observed volume (FLOR AMARILLO's one day of sales left out) the default, 12,000 lines, gives chunks of 2 days.
    const unknown = buildPlan({
      ...situation,
      stores: situation.stores.map((s) => (s.id === 'tienda_11' ? { ...s, linesPerDay: null } : s)),
    });
    expect(unknown.stores.find((s) => s.id === 'tienda_11')).toMatchObject({
      linesPerDay: 12_000,
      linesPerDayObserved: false,
      chunkDays: 2,
    });
  });

  it('phase 1 is the common gap for every store it hits, and nothing else', () => {
    const [phase1] = plan.phases;
    expect(phase1?.phase).toBe(1);
    expect(phase1?.title).toContain(`${COMMON_GAP.from} a ${COMMON_GAP.to}`);
    const inGap = planChunks({ phases: [phase1!] }).flatMap((c) =>
      eachDay(c.dayFrom, c.dayTo).map((d) => `${c.storeId} ${d}`),
    );
    const expected = situation.stores.flatMap((s) =>
      s.targets.filter((t) => t.day >= COMMON_GAP.from && t.day <= COMMON_GAP.to).map((t) => `${s.id} ${t.day}`),
    );
    expect(inGap.sort()).toEqual(expected.sort());
    expect(new Set(phase1!.steps.flatMap((s) => s.stores)).size).toBe(19);
    // FLOR AMARILLO has 2026-01-25: its window stops the day before.
    expect(phase1!.steps.find((s) => s.stores.includes('tienda_11'))).toMatchObject({
      from: '2026-01-10 00:00',
      to: '2026-01-24 23:59',
      stores: ['tienda_11'],
    });
  });

  it('phase 2 takes each ALTA store on its own, the new store first, then lowest coverage', () => {
    const phase2 = plan.phases.find((p) => p.phase === 2)!;
    expect(phase2.steps.every((s) => s.stores.length === 1)).toBe(true);
    const alta = situation.stores.filter((s) => s.priority === 'ALTA');
    const orderOf = (p: Plan) => [...new Set(p.phases.find((x) => x.phase === 2)!.steps.map((s) => s.stores[0]!))];
    const coverageOf = (ids: string[]) => ids.map((id) => alta.find((s) => s.id === id)!.coveragePct);
    // No ALTA store is new (FLOR AMARILLO is only suspected): lowest coverage first.
    const order = orderOf(plan);
    expect(order).toHaveLength(alta.length);
    expect(coverageOf(order)).toEqual(coverageOf(order).sort((a, b) => a - b));
    // The ALTA store of highest coverage, were it new, would go first.
    const last = order.at(-1)!;
    const withNew = orderOf(
      buildPlan({ ...situation, stores: situation.stores.map((s) => (s.id === last ? { ...s, isNew: true } : s)) }),
    );
    expect(withNew).toEqual([last, ...order.slice(0, -1)]);
    // A store's steps are consecutive and split around 25-Dec and 1-Jan.
    expect(phase2.steps.filter((s) => s.stores[0] === 'tienda_11').map((s) => [s.from, s.to])).toEqual([
      ['2025-10-28 00:00', '2025-12-24 23:59'],
      ['2025-12-26 00:00', '2025-12-31 23:59'],
      ['2026-01-02 00:00', '2026-01-09 23:59'],
    ]);
  });

  it('phase 3 has the rest, MEDIA before BAJA, PARAISO (new) first, in batches of identical windows', () => {
    const phase3 = plan.phases.find((p) => p.phase === 3)!;
    const priority = new Map(situation.stores.map((s) => [s.id, s.priority]));
    const rest = situation.stores.filter((s) => s.priority === 'MEDIA' || s.priority === 'BAJA').map((s) => s.id);
    expect(new Set(phase3.steps.flatMap((s) => s.stores))).toEqual(new Set(rest));
    const leads = phase3.steps.map((s) => priority.get(s.stores[0]!));
    expect(leads.indexOf('BAJA')).toBeGreaterThan(leads.lastIndexOf('MEDIA'));
    expect(phase3.steps[0]!.stores[0]).toBe('tienda_18');
    expect(phase3.steps.some((s) => s.stores.length > 1)).toBe(true);
  });

  it('groups in phases 1 and 3: one step per window and chunk size', () => {
    for (const phase of plan.phases.filter((p) => p.phase !== 2)) {
      const keys = phase.steps.map((s) => `${s.from}|${s.to}|${s.chunkDays}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    const phase1 = plan.phases[0]!;
    expect(phase1.steps.filter((s) => s.from === '2026-01-10 00:00' && s.to === '2026-01-25 23:59').length).toBe(
      new Set(phase1.steps.filter((s) => s.to === '2026-01-25 23:59').map((s) => s.chunkDays)).size,
    );
    expect(Math.max(...phase1.steps.map((s) => s.stores.length))).toBeGreaterThanOrEqual(5);
  });
});

describe('merging neighbouring holes', () => {
  const holes = ['2026-01-05', '2026-01-07'];

  it('merges a pair of 1-day holes around one present day of a tiny store: one request saved beats 100 lines re-read', () => {
    const plan = buildPlan(input([store('tienda_01', { linesPerDay: 100, holes })]));
    expect(planChunks(plan)).toEqual([{ storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-07' }]);
    expect(plan.totals).toMatchObject({ requests: 1, storeDays: 3, missingStoreDays: 2, overFetchRatio: 1.5 });
  });

  it('does not merge them for a big store: re-reading 12,000 lines costs more than a request', () => {
    const plan = buildPlan(input([store('tienda_01', { linesPerDay: 12_000, holes })]));
    expect(planChunks(plan)).toEqual([
      { storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-05' },
      { storeId: 'tienda_01', dayFrom: '2026-01-07', dayTo: '2026-01-07' },
    ]);
    expect(plan.totals).toMatchObject({ requests: 2, storeDays: 2, overFetchRatio: 1 });
  });

  it('never merges across a closed or empty day, however small the store', () => {
    const plan = buildPlan(input([store('tienda_01', { linesPerDay: 100, holes, unavailable: ['2026-01-06'] })]));
    expect(plan.totals.requests).toBe(2);
    expect(requestedDays(plan)).not.toContain('tienda_01 2026-01-06');
  });

  it('never merges across a rejected day (not requested again), which is not counted as closed or empty', () => {
    const plan = buildPlan(input([store('tienda_01', { linesPerDay: 100, holes, rejected: ['2026-01-06'] })]));
    expect(plan.totals.requests).toBe(2);
    expect(requestedDays(plan)).not.toContain('tienda_01 2026-01-06');
    expect(plan.unavailableStoreDays).toBe(0);
  });

  it('never merges across a hole that another phase requests (it would be requested twice)', () => {
    const tiny = store('tienda_01', { linesPerDay: 100, holes: ['2026-01-04', '2026-01-05', '2026-01-07'] });
    const plan = buildPlan(
      input([tiny], { commonGaps: [{ from: '2026-01-05', to: '2026-01-05', stores: ['tienda_01'] }] }),
    );
    const requested = requestedDays(plan);
    expect(requested.sort()).toEqual(['tienda_01 2026-01-04', 'tienda_01 2026-01-05', 'tienda_01 2026-01-07']);
    expect(plan.phases.map((p) => p.phase)).toEqual([1, 3]);
  });

  it('does not merge when the merged window needs as many requests', () => {
    // Chunks of 3 days: 3 + 3 days need 2 requests apart, the 7 days merged need 3: nothing saved.
    const plan = buildPlan(
      input(
        [
          store('tienda_01', {
            linesPerDay: 10_000,
            holes: [...eachDay('2026-01-01', '2026-01-03'), ...eachDay('2026-01-05', '2026-01-07')],
          }),
        ],
        {
          timing: {
            baseSeconds: 1000,
            secondsPer1000Lines: 0.001,
            model: 'fitted',
            samples: 50,
            load: { baseSeconds: 0, secondsPer1000Lines: 0 },
          },
        },
      ),
    );
    expect(plan.totals).toMatchObject({ requests: 2, storeDays: 6 });
  });
});

describe('invariants on random situations', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'seed %i: each target once, closed days never, re-reads only present days',
    (seed) => {
      const next = random(seed);
      const days = eachDay('2026-01-01', '2026-01-20');
      const priorities = ['ALTA', 'MEDIA', 'BAJA'] as const;
      const stores = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04', 'tienda_05'].map((id) => {
        const states = days.map(() => next());
        return store(id, {
          priority: priorities[Math.floor(next() * 3)]!,
          coveragePct: Math.round(next() * 100),
          linesPerDay: [50, 400, 2_000, 9_000, 16_000, 40_000][Math.floor(next() * 6)]!,
          holes: days.filter((_, i) => states[i]! < 0.4),
          unavailable: days.filter((_, i) => states[i]! > 0.9),
        });
      });
      const plan = buildPlan(
        input(stores, {
          commonGaps: [{ from: '2026-01-08', to: '2026-01-12', stores: ['tienda_01', 'tienda_03', 'tienda_05'] }],
        }),
      );
      const requested = requestedDays(plan);
      expect(new Set(requested).size).toBe(requested.length);
      for (const s of stores) {
        const mine = new Set(requested.filter((k) => k.startsWith(`${s.id} `)).map((k) => k.slice(-10)));
        for (const t of s.targets) expect(mine.has(t.day)).toBe(true);
        for (const d of s.unavailable) expect(mine.has(d)).toBe(false);
      }
      expect(plan.totals.requests).toBe(planChunks(plan).length);
      expect(plan.totals.storeDays).toBe(requested.length);
      expect(plan.totals.storeDays).toBeGreaterThanOrEqual(plan.totals.missingStoreDays);
    },
  );
});

describe('estimates with the timing model', () => {
  // A: 10,000 lines/day, chunks of 3 over 7 days = 3 requests: 4 + 75 = 79 s, 79 s, then 4 + 25 = 29 s (1 day).
  // B: 5,000 lines/day, 1 day = 1 request: 4 s + 2.5 s x 5 = 16.5 s.
  const a = store('tienda_02', { priority: 'ALTA', coveragePct: 30, holes: eachDay('2026-01-02', '2026-01-08') });
  const b = store('tienda_03', { linesPerDay: 5000, holes: ['2026-01-15'] });

  it('gives each step its own requests on the slots, and the plan all of them together as the backfill runs them', () => {
    const plan = buildPlan(input([a, b]));
    expect(
      plan.phases.map((p) => p.steps.map((s) => [s.stores, s.chunkDays, s.requests, s.storeDays, s.estimatedSeconds])),
    ).toEqual([
      [[['tienda_02'], 3, 3, 7, 79]], // three requests on three slots: the longest
      [[['tienda_03'], 1, 1, 1, 17]], // 16.5
    ]);
    // B takes the first free slot, after the 29 s request: 29 + 16.5 = 45.5 < 79.
    expect(plan.totals).toEqual({
      requests: 4,
      storeDays: 8,
      missingStoreDays: 8,
      overFetchRatio: 1,
      estimatedSeconds: 79,
      estimate: {
        model: 'default',
        samples: 0,
        baseSeconds: 4,
        secondsPer1000Lines: 2.5,
        loadBaseSeconds: 0,
        loadSecondsPer1000Lines: 0,
        concurrency: 3,
      },
    });
  });

  it('with one request in flight everything runs in sequence', () => {
    const plan = buildPlan(input([a, b], { concurrency: 1 }));
    expect(plan.phases.flatMap((p) => p.steps.map((s) => s.estimatedSeconds))).toEqual([187, 17]);
    expect(plan.totals.estimatedSeconds).toBe(204);
  });

  it('never estimates less than the longest request: one long request is the whole plan, however many slots', () => {
    // 10,000 lines a day in chunks of 3 days: one request of 30,000 lines, 4 + 75 = 79 s, alone on 3 slots.
    const plan = buildPlan(input([store('tienda_02', { holes: eachDay('2026-01-02', '2026-01-04') })]));
    expect(plan.totals.requests).toBe(1);
    expect(plan.phases[0]!.steps[0]!.estimatedSeconds).toBe(79);
    expect(plan.totals.estimatedSeconds).toBe(79);
  });

  it('never estimates less than the work over the slots, and no step more than the whole plan', () => {
    const stores = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04', 'tienda_05'].map((id, i) =>
      store(id, {
        linesPerDay: [400, 2_000, 9_000, 16_000, 40_000][i]!,
        holes: eachDay('2026-01-01', '2026-01-20').filter((_, d) => (d + i) % 3 !== 0),
      }),
    );
    for (const concurrency of [1, 2, 3, 5]) {
      const plan = buildPlan(input(stores, { concurrency }));
      const steps = plan.phases.flatMap((p) => p.steps);
      const work = sum(planChunks(plan).map((c) => requestSecondsOf(c, stores)));
      const longest = Math.max(...planChunks(plan).map((c) => requestSecondsOf(c, stores)));
      expect(plan.totals.estimatedSeconds).toBeGreaterThanOrEqual(Math.floor(longest));
      expect(plan.totals.estimatedSeconds).toBeGreaterThanOrEqual(Math.floor(work / concurrency));
      for (const step of steps) expect(step.estimatedSeconds).toBeLessThanOrEqual(plan.totals.estimatedSeconds);
      // Together never slower than one step after another (the script), nor faster than the longest step alone.
      expect(plan.totals.estimatedSeconds).toBeLessThanOrEqual(
        sum(steps.map((s) => s.estimatedSeconds)) + steps.length,
      );
    }
  });

  it('uses the default volume for a store without one in the window nor in its history', () => {
    const plan = buildPlan(
      input([store('tienda_04', { linesPerDay: null, holes: ['2026-01-10'] })], { defaultLinesPerDay: 20_000 }),
    );
    expect(plan.totals.estimatedSeconds).toBe(4 + 2.5 * 20);
    expect(plan.stores[0]).toMatchObject({
      linesPerDay: 20_000,
      linesPerDayObserved: false,
      linesPerDaySource: 'default',
    });
  });

  it('uses the fitted model it is given and says so', () => {
    const timing = {
      baseSeconds: 0.4,
      secondsPer1000Lines: 0.9,
      model: 'fitted' as const,
      samples: 289,
      load: { baseSeconds: 0.1, secondsPer1000Lines: 0.02 },
    };
    const plan = buildPlan(input([b], { timing }));
    // One request of 5,000 lines: 0.4 + 0.9 x 5 = 4.9 s, then its load, 0.1 + 0.02 x 5 = 0.2 s.
    expect(plan.totals.estimatedSeconds).toBe(5);
    expect(plan.totals.estimate).toEqual({
      model: 'fitted',
      samples: 289,
      baseSeconds: 0.4,
      secondsPer1000Lines: 0.9,
      loadBaseSeconds: 0.1,
      loadSecondsPer1000Lines: 0.02,
      concurrency: 3,
    });
  });
});

describe('makespan', () => {
  const fetches = (...seconds: number[]) => seconds.map((fetch) => ({ fetch, load: 0 }));

  it('puts each request, in order, on the first of the slots to free up', () => {
    expect(makespan([], 3)).toBe(0);
    expect(makespan(fetches(10), 3)).toBe(10);
    expect(makespan(fetches(5, 5, 5, 5), 3)).toBe(10);
    // 4 | 3 | 3, then 2 on the slot free at 3 (5), then 2 on the other free at 3 (5), then 4 on the one free at 4.
    expect(makespan(fetches(4, 3, 3, 2, 2, 4), 3)).toBe(8);
    expect(makespan(fetches(1, 2, 3), 1)).toBe(6);
  });

  it('loads an answer without holding a slot: the next request starts meanwhile, the last load ends the run', () => {
    // One slot, two workers: the second request is asked while the first answer loads.
    expect(
      makespan(
        [
          { fetch: 2, load: 1 },
          { fetch: 2, load: 1 },
        ],
        1,
      ),
    ).toBe(5);
    expect(makespan([{ fetch: 2, load: 5 }], 3)).toBe(7);
  });

  it('has twice as many workers as slots: loads longer than requests hold the next requests back', () => {
    // Slot free at 1, 2, 3..., but both workers load until 1 + 10 and 2 + 10: the third request starts at 11.
    expect(
      makespan(
        [
          { fetch: 1, load: 10 },
          { fetch: 1, load: 10 },
          { fetch: 1, load: 0 },
        ],
        1,
      ),
    ).toBe(12);
  });
});

describe('volume for sizing chunks', () => {
  // A store with 20 missing days and no complete day in the window that sells ~3,000 lines a day: with the default
  // (12,000 lines a day) its chunks would be 2 days (10 requests); its history says 10 days (2 requests).
  const holes = eachDay('2026-01-01', '2026-01-20');

  it('takes a store without a complete day in the window from its whole history', () => {
    const plan = buildPlan(input([store('tienda_11', { linesPerDay: null, historyLinesPerDay: 3_000, holes })]));
    expect(plan.stores[0]).toMatchObject({
      linesPerDay: 3_000,
      linesPerDayObserved: true,
      linesPerDaySource: 'history',
      chunkDays: 10,
    });
    expect(plan.totals.requests).toBe(2);
    const withoutHistory = buildPlan(
      input([store('tienda_11', { linesPerDay: null, historyLinesPerDay: null, holes })]),
    );
    expect(withoutHistory.stores[0]).toMatchObject({ linesPerDay: 12_000, linesPerDaySource: 'default', chunkDays: 2 });
    expect(withoutHistory.totals.requests).toBe(10);
  });

  it("prefers the window's complete days to the history", () => {
    const plan = buildPlan(input([store('tienda_11', { linesPerDay: 6_000, historyLinesPerDay: 3_000, holes })]));
    expect(plan.stores[0]).toMatchObject({ linesPerDay: 6_000, linesPerDaySource: 'window', chunkDays: 5 });
  });

  it("the issue's case: 95 requests with the default where the history gives 19, under the same line budget", () => {
    // 190 missing days of a store selling 3,000 lines a day (2,985 days would be 10 per chunk too).
    const from = '2025-06-01';
    const days = eachDay(from, addDays(from, 189));
    const at = (historyLinesPerDay: number | null) =>
      buildPlan(
        input([store('tienda_18', { linesPerDay: null, historyLinesPerDay, holes: days })], { from, to: days.at(-1)! }),
      );
    expect(at(null).totals.requests).toBe(95);
    const plan = at(3_000);
    expect(plan.totals.requests).toBe(19);
    for (const c of planChunks(plan)) expect((daysBetween(c.dayFrom, c.dayTo) + 1) * 3_000).toBeLessThanOrEqual(30_000);
  });
});

describe('grouping', () => {
  const window = eachDay('2026-01-10', '2026-01-12');

  it('puts stores with the same window and chunk size in one step, in priority order', () => {
    const plan = buildPlan(
      input([
        store('tienda_05', { coveragePct: 80, holes: window }),
        store('tienda_04', { coveragePct: 70, holes: window }),
      ]),
    );
    expect(plan.phases).toHaveLength(1);
    expect(plan.phases[0]!.steps).toEqual([
      expect.objectContaining({
        stores: ['tienda_04', 'tienda_05'],
        from: '2026-01-10 00:00',
        to: '2026-01-12 23:59',
        chunkDays: 3,
        storeDays: 6,
        requests: 2,
      }),
    ]);
  });

  it('never mixes chunk sizes in one step', () => {
    const plan = buildPlan(
      input([
        store('tienda_04', { linesPerDay: 5_000, holes: window }),
        store('tienda_05', { linesPerDay: 12_000, holes: window }),
      ]),
    );
    expect(plan.phases[0]!.steps.map((s) => [s.stores, s.chunkDays, s.requests])).toEqual([
      [['tienda_04'], 3, 1],
      [['tienda_05'], 2, 2],
    ]);
  });

  it('groups stores whose chunks are all as long as the window (the same requests)', () => {
    const plan = buildPlan(
      input([
        store('tienda_04', { linesPerDay: 5_000, holes: ['2026-01-10'] }),
        store('tienda_05', { linesPerDay: 12_000, holes: ['2026-01-10'] }),
      ]),
    );
    expect(plan.phases[0]!.steps.map((s) => [s.stores, s.chunkDays])).toEqual([[['tienda_04', 'tienda_05'], 1]]);
  });

  it('keeps ALTA stores on their own even with the same window', () => {
    const plan = buildPlan(
      input([
        store('tienda_04', { priority: 'ALTA', holes: window }),
        store('tienda_05', { priority: 'ALTA', isNew: true, holes: window }),
      ]),
    );
    expect(plan.phases).toHaveLength(1);
    expect(plan.phases[0]!.phase).toBe(2);
    expect(plan.phases[0]!.steps.map((s) => s.stores)).toEqual([['tienda_05'], ['tienda_04']]);
  });

  it('a common gap groups every store it hits, cut where a store has the day or is closed', () => {
    const gap = eachDay('2026-01-15', '2026-01-20');
    const plan = buildPlan(
      input(
        [
          store('tienda_01', { holes: gap }),
          store('tienda_02', { holes: gap }),
          store('tienda_03', { holes: gap.filter((d) => d !== '2026-01-20') }),
          store('tienda_04', { holes: gap.filter((d) => d !== '2026-01-17'), unavailable: ['2026-01-17'] }),
        ],
        {
          commonGaps: [
            { from: '2026-01-15', to: '2026-01-20', stores: ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04'] },
          ],
        },
      ),
    );
    expect(plan.phases.map((p) => p.phase)).toEqual([1]);
    expect(plan.phases[0]!.steps.map((s) => [s.stores.join(','), stepDays(s).dayFrom, stepDays(s).dayTo])).toEqual([
      ['tienda_01,tienda_02', '2026-01-15', '2026-01-20'],
      ['tienda_03', '2026-01-15', '2026-01-19'],
      ['tienda_04', '2026-01-15', '2026-01-16'],
      ['tienda_04', '2026-01-18', '2026-01-20'],
    ]);
    expect(plan.phases[0]!.title).toBe('Gap Comun (2026-01-15 a 2026-01-20) - 4 tiendas');
  });
});

describe('edge cases', () => {
  it('nothing to fetch: no phases, ratio 1', () => {
    const plan = buildPlan(input([store('tienda_01', { priority: 'OK', coveragePct: 100 })]));
    expect(plan.phases).toEqual([]);
    expect(plan.stores).toEqual([]);
    expect(plan.totals).toMatchObject({
      requests: 0,
      storeDays: 0,
      missingStoreDays: 0,
      overFetchRatio: 1,
      estimatedSeconds: 0,
    });
  });

  it('rejects targets that contradict the input', () => {
    expect(() =>
      buildPlan(input([store('tienda_01', { holes: ['2026-01-05'], unavailable: ['2026-01-05'] })])),
    ).toThrow(/cerrado o vac/);
    expect(() => buildPlan(input([store('tienda_01', { holes: ['2025-12-31'] })]))).toThrow(/fuera de la ventana/);
    expect(() => buildPlan(input([store('tienda_01', { holes: ['2026-01-05', '2026-01-05'] })]))).toThrow(/repetido/);
    expect(() => buildPlan(input([store('tienda_01'), store('tienda_01')]))).toThrow(/tienda repetida/);
    expect(() => buildPlan(input([], { lineBudget: 0 }))).toThrow(/lineBudget/);
  });
});
