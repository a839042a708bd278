import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, type BreakerState } from './breaker.ts';

const down = new Error('KLK no responde');

/** One request that KLK fails. */
const fail = (breaker: CircuitBreaker) => breaker.execute(() => Promise.reject(down)).catch(() => undefined);
/** One request that KLK answers. */
const succeed = (breaker: CircuitBreaker) => breaker.execute(async (kind) => kind);

/** A request held open until the test settles it. */
function held<T = void>() {
  let settle!: { resolve: (value: T) => void; reject: (error: unknown) => void };
  const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  return { promise, ...settle };
}

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays closed under the threshold and lets requests through', async () => {
    const breaker = new CircuitBreaker({ threshold: 3 });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await expect(succeed(breaker)).resolves.toBe('normal');
    // The success started the count again.
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('opens after failures in a row, lets one probe through after the cooldown, and resumes everyone on its success', async () => {
    const changes: BreakerState[] = [];
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 30, onChange: (s) => changes.push(s) });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    const order: string[] = [];
    const probe = held();
    const waiting = [1, 2, 3].map(() =>
      breaker.execute(async (kind) => {
        order.push(kind);
        if (kind === 'probe') await probe.promise;
      }),
    );
    await vi.advanceTimersByTimeAsync(29);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    // Which waiter probes is up to the timers; that exactly one does, and the others wait for it, is the point.
    expect(order).toEqual(['probe']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(order).toEqual(['probe']);
    probe.resolve();
    await Promise.all(waiting);
    expect(order).toEqual(['probe', 'normal', 'normal']);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens with a longer cooldown when the probe fails', async () => {
    const cooldowns: number[] = [];
    const breaker = new CircuitBreaker({
      threshold: 1,
      cooldownMs: 10,
      onChange: (s, i) => s === 'open' && cooldowns.push(i.cooldownMs),
    });
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(10);
    const probes: string[] = [];
    await breaker
      .execute(async (kind) => {
        probes.push(kind);
        throw down;
      })
      .catch(() => undefined);
    expect(breaker.state).toBe('open');
    const next = succeed(breaker);
    await vi.advanceTimersByTimeAsync(19);
    expect(breaker.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    await expect(next).resolves.toBe('probe');
    expect(probes).toEqual(['probe']);
    expect(cooldowns).toEqual([10, 20]);
    expect(breaker.state).toBe('closed');
    // Closed again, the next opening starts from the first cooldown.
    await fail(breaker);
    expect(cooldowns).toEqual([10, 20, 10]);
  });

  it('stops waiting when aborted, with the reason, and never runs the request', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10_000 });
    await fail(breaker);
    const stop = new AbortController();
    const run = vi.fn(async () => 'sent');
    const pending = breaker.execute(run, { signal: stop.signal });
    stop.abort(new Error('parado'));
    await expect(pending).rejects.toThrow('parado');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).not.toHaveBeenCalled();
    // Its turn, had it stayed, is still there for the next request.
    await expect(succeed(breaker)).resolves.toBe('probe');
  });

  it('lets a request waiting for the probe go when its caller aborts', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10 });
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(10);
    const probe = held();
    const probing = breaker.execute(() => probe.promise);
    expect(breaker.state).toBe('half-open');
    const stop = new AbortController();
    const waiting = breaker.execute(async () => 'sent', { signal: stop.signal });
    stop.abort(new Error('parado'));
    await expect(waiting).rejects.toThrow('parado');
    probe.resolve();
    await probing;
    expect(breaker.state).toBe('closed');
  });

  it('measures how long KLK has failed without a success', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 60_000 });
    expect(breaker.failingForMs()).toBe(0);
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(20);
    expect(breaker.failingForMs()).toBe(20);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(breaker.failingForMs()).toBe(60_020);
    await succeed(breaker);
    expect(breaker.failingForMs()).toBe(0);
  });

  it('does not count what says nothing of KLK, and a probe ending so lets the others go', async () => {
    const notKlkFailure = (error: unknown) => error instanceof RangeError;
    const other = (breaker: CircuitBreaker) =>
      breaker.execute(() => Promise.reject(new RangeError('ventana demasiado grande')), { notKlkFailure });
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 10 });
    await fail(breaker);
    await expect(other(breaker)).rejects.toThrow(RangeError);
    expect(breaker.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(5);
    // Not counted, nor a success: KLK is still failing since the first one, and the next failure is the second in a row.
    expect(breaker.failingForMs()).toBe(5);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    await vi.advanceTimersByTimeAsync(10);
    // The probe's request was stopped (or is to be split): the others are not left waiting for an outcome forever.
    await expect(other(breaker)).rejects.toThrow(RangeError);
    expect(breaker.state).toBe('closed');
    await expect(succeed(breaker)).resolves.toBe('normal');
  });
});
