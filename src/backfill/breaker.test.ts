import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from './breaker.ts';

describe('CircuitBreaker', () => {
  it('stays closed under the threshold and lets requests through', async () => {
    const breaker = new CircuitBreaker({ threshold: 3 });
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    await expect(breaker.acquire()).resolves.toBe('normal');
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
  });

  it('opens after failures in a row, lets one probe through after the cooldown, and resumes everyone on its success', async () => {
    const changes: BreakerState[] = [];
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 30, onChange: (s) => changes.push(s) });
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('open');
    const order: string[] = [];
    const waiting = [1, 2, 3].map(() => breaker.acquire().then((kind) => order.push(kind)));
    await new Promise((r) => setTimeout(r, 60));
    // Which waiter probes is up to the timers; that exactly one does, and the others wait for it, is the point.
    expect(order).toEqual(['probe']);
    breaker.success();
    await Promise.all(waiting);
    expect(order).toEqual(['probe', 'normal', 'normal']);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens with a longer cooldown when the probe fails', async () => {
    const cooldowns: number[] = [];
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10, onChange: (s, i) => s === 'open' && cooldowns.push(i.cooldownMs) });
    breaker.failure();
    await expect(breaker.acquire()).resolves.toBe('probe');
    breaker.failure();
    expect(breaker.state).toBe('open');
    await expect(breaker.acquire()).resolves.toBe('probe');
    breaker.success();
    expect(cooldowns).toEqual([10, 20]);
    expect(breaker.state).toBe('closed');
  });

  it('stops waiting when aborted', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10_000 });
    breaker.failure();
    const controller = new AbortController();
    const pending = breaker.acquire(controller.signal);
    // It now rejects at the abort itself, before the assertion below is attached.
    pending.catch(() => undefined);
    controller.abort();
    await new Promise((r) => setTimeout(r, 0));
    breaker.success();
    await expect(pending).rejects.toThrow();
  });

  it('lets a waiting request go when its caller aborts, and measures how long KLK has failed without a success', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 60_000 });
    expect(breaker.failingForMs()).toBe(0);
    breaker.failure();
    await new Promise((r) => setTimeout(r, 20));
    expect(breaker.failingForMs()).toBeGreaterThanOrEqual(15);
    const stop = new AbortController();
    const waiting = breaker.acquire(stop.signal);
    stop.abort(new Error('parado'));
    await expect(waiting).rejects.toThrow('parado');
    breaker.success();
    expect(breaker.failingForMs()).toBe(0);
  });
});
