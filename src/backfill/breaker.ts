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
        await this.sleep(wait);
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  success(): void {
    this.failures = 0;
    if (this.state !== 'closed') {
      this.cooldownMs = this.baseCooldownMs;
      this.transition('closed');
    }
  }

  failure(): void {
    this.failures++;
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }
}
