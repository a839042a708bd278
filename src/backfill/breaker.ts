/**
 * A circuit breaker in front of one KLK: after `threshold` failures in a row every request waits; once the
 * cooldown has passed a single probe goes through, and only its success lets the others resume. A KLK that is
 * down is then asked once per cooldown instead of by every chunk and every retry.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold?: number;
  cooldownMs?: number;
  maxCooldownMs?: number;
  onChange?: (state: BreakerState, info: { failures: number; cooldownMs: number }) => void;
}

export class CircuitBreaker {
  state: BreakerState = 'closed';
  private failures = 0;
  private failingSince: number | null = null;
  private openedAt = 0;
  private cooldownMs: number;
  private waiters: Array<() => void> = [];
  private readonly threshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;

  constructor(private readonly options: BreakerOptions = {}) {
    this.threshold = options.threshold ?? 5;
    this.baseCooldownMs = options.cooldownMs ?? 2_000;
    this.maxCooldownMs = options.maxCooldownMs ?? 60_000;
    this.cooldownMs = this.baseCooldownMs;
  }

  /** Waits until a request may go: `probe` when it is the one request that tests a KLK that was failing. */
  async acquire(signal?: AbortSignal): Promise<'normal' | 'probe'> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.state === 'closed') return 'normal';
      if (this.state === 'open') {
        const wait = this.openedAt + this.cooldownMs - Date.now();
        if (wait <= 0) {
          this.transition('half-open');
          return 'probe';
        }
        await this.pause(wait, signal);
        continue;
      }
      await this.pause(null, signal);
    }
  }

  /** How long KLK has been failing without a single success in between (0 when its last answer was a success). */
  failingForMs(): number {
    return this.failingSince === null ? 0 : Date.now() - this.failingSince;
  }

  success(): void {
    this.failures = 0;
    this.failingSince = null;
    if (this.state !== 'closed') {
      this.cooldownMs = this.baseCooldownMs;
      this.transition('closed');
    }
  }

  failure(): void {
    this.failures++;
    this.failingSince ??= Date.now();
    if (this.state === 'half-open') {
      this.cooldownMs = Math.min(this.maxCooldownMs, this.cooldownMs * 2);
      this.open();
    } else if (this.state === 'closed' && this.failures >= this.threshold) {
      this.open();
    }
  }

  private open(): void {
    this.openedAt = Date.now();
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    this.state = state;
    this.options.onChange?.(state, { failures: this.failures, cooldownMs: this.cooldownMs });
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  /** Until the state changes, `ms` pass (null: no limit) or the caller aborts: a stopped run never hangs here. */
  private pause(ms: number | null, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}
