/**
 * A circuit breaker in front of one KLK: after `threshold` failures in a row every request waits; once the
 * cooldown has passed a single probe goes through, and only its outcome decides: a success lets the others resume,
 * a failure opens the breaker again for twice the cooldown (up to `maxCooldownMs`). A KLK that is down is then
 * asked once per cooldown instead of by every chunk and every retry. Only the probe closes it: a request sent before
 * it opened that succeeds afterwards starts the count again, and leaves the probe to decide.
 *
 * The states, the count and the cooldowns are cockatiel's circuit breaker. Around it, what cockatiel leaves to its
 * caller: a request that finds the breaker open waits (abortably) for its turn instead of failing at once with
 * BrokenCircuitError, and requests that arrive while the probe is out wait for its outcome.
 */
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  Event,
  handleWhen,
  type CircuitBreakerPolicy,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold?: number;
  cooldownMs?: number;
  maxCooldownMs?: number;
  onChange?: (state: BreakerState, info: { failures: number; cooldownMs: number }) => void;
}

export interface ExecuteOptions {
  /** Ends the wait for the breaker (rejecting with its reason); what `fn` does with a signal is its own affair. */
  signal?: AbortSignal;
  /**
   * An error that says nothing of KLK's health (the caller stopped, the database went away, a window to split):
   * it leaves the count of failures alone, and a probe that ends with one closes the breaker, as a probe that got
   * an answer does.
   */
  notKlkFailure?: (error: unknown) => boolean;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  // Only `isolate()` holds a breaker isolated, and nothing here calls it.
  [CircuitState.Isolated]: 'open',
};

/** Carries an error that is not KLK's failure through the policy, which lets anything it does not handle pass. */
class NotCounted {
  constructor(readonly error: unknown) {}
}

export class CircuitBreaker {
  private readonly policy: CircuitBreakerPolicy;
  private readonly consecutive: ConsecutiveBreaker;
  /** The cooldown of the current opening, as the policy drew it. */
  private cooldownMs: number;
  private openedAt = 0;
  private failingSince: number | null = null;

  constructor(options: BreakerOptions = {}) {
    const baseCooldownMs = options.cooldownMs ?? 2_000;
    const maxCooldownMs = options.maxCooldownMs ?? 60_000;
    this.cooldownMs = baseCooldownMs;
    this.consecutive = new ConsecutiveBreaker(options.threshold ?? 5);
    this.policy = circuitBreaker(
      handleWhen((error) => !(error instanceof NotCounted)),
      {
        breaker: this.consecutive,
        // `attempt`: the openings in a row, the first one after a success being 1.
        halfOpenAfter: new DelegateBackoff<IHalfOpenAfterBackoffContext>(
          (context) => (this.cooldownMs = Math.min(maxCooldownMs, baseCooldownMs * 2 ** (context.attempt - 1))),
        ),
      },
    );
    this.policy.onFailure(({ handled }) => {
      if (handled) this.failingSince ??= Date.now();
    });
    this.policy.onSuccess(() => {
      this.failingSince = null;
    });
    this.policy.onStateChange((state) => {
      if (state === CircuitState.Open) this.openedAt = Date.now();
      // A probe that ended without a word on KLK (onSuccess not told) closes it too.
      if (state === CircuitState.Closed) this.failingSince = null;
      options.onChange?.(STATES[state], { failures: this.consecutive.state, cooldownMs: this.cooldownMs });
    });
  }

  get state(): BreakerState {
    return STATES[this.policy.state];
  }

  /**
   * Runs `fn` once a request may go: `fn('probe')` when it is the one request that tests a KLK that was failing
   * (then it should ask only once). What `fn` throws counts as a KLK failure unless `notKlkFailure` says otherwise.
   * Rejects with the signal's reason, `fn` never called, when the signal is aborted while waiting.
   */
  async execute<T>(fn: (kind: 'normal' | 'probe') => Promise<T>, options: ExecuteOptions = {}): Promise<T> {
    const { signal, notKlkFailure } = options;
    for (;;) {
      signal?.throwIfAborted();
      const state = this.policy.state;
      if (state === CircuitState.HalfOpen) {
        await this.pause(null, signal);
        continue;
      }
      if (state !== CircuitState.Closed) {
        const wait = this.openedAt + this.cooldownMs - Date.now();
        if (wait > 0) {
          await this.pause(wait, signal);
          continue;
        }
      }
      // Called right after reading the state: an open policy whose cooldown is over makes this very call the probe.
      const kind = state === CircuitState.Closed ? 'normal' : 'probe';
      try {
        return await this.policy.execute(async () => {
          try {
            return await fn(kind);
          } catch (error) {
            throw notKlkFailure?.(error) ? new NotCounted(error) : error;
          }
        });
      } catch (error) {
        // Its clock a millisecond behind ours: not its turn yet after all.
        if (error instanceof BrokenCircuitError) continue;
        throw error instanceof NotCounted ? error.error : error;
      }
    }
  }

  /** How long KLK has been failing without a single success in between (0 when its last answer was a success). */
  failingForMs(): number {
    return this.failingSince === null ? 0 : Date.now() - this.failingSince;
  }

  /** Until the state changes, `ms` pass (null: no limit) or the caller aborts: a stopped run never hangs here. */
  private async pause(ms: number | null, signal?: AbortSignal): Promise<void> {
    const timeUp = new AbortController();
    // The global timer rather than node:timers/promises: the only one vitest's fake timers reach (vitest#10871).
    const timer = ms === null ? undefined : setTimeout(() => timeUp.abort(), ms);
    try {
      await Event.toPromise(
        this.policy.onStateChange,
        signal ? AbortSignal.any([signal, timeUp.signal]) : timeUp.signal,
      );
    } catch {
      // Its time is up, or the caller stopped.
      signal?.throwIfAborted();
    } finally {
      clearTimeout(timer);
    }
  }
}
