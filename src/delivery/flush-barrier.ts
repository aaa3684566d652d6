import { MAX_TIMER_MS, timerDelay } from './timers.js';

interface Waiter {
  /** Resolved once every entry with a lower sequence number is settled, or at its deadline. */
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * The `finish()` waiters: each waits for the entries accepted before its call (sequence numbers below its own)
 * to settle, or for its deadline.
 *
 * A deadline cuts only its own waiter's wait. When it passes while others still wait, that waiter is resolved and
 * nothing else happens. When it passes with no other waiter left, `onAbandon` is called with the sequence number
 * below which every entry was covered by a deadline that has passed: the owner gives those up.
 *
 * Each waiter holds the process alive until its deadline (one without a deadline, for good).
 */
export class FlushBarrier {
  readonly #onAbandon: (belowSeq: number) => void;
  #waiters: Waiter[] = [];
  /** Entries below this sequence number were covered by a deadline that has passed. */
  #expiredSeq = 0;

  /** @param onAbandon - gives up the unsettled entries below a sequence number. */
  constructor(onAbandon: (belowSeq: number) => void) {
    this.#onAbandon = onAbandon;
  }

  /** Callers waiting now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits until {@link settle} reports every entry below `seq` settled, or for `timeoutMs`.
   * @param timeoutMs - `Infinity` waits as long as it takes.
   */
  wait(seq: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => this.#deadlinePassed(waiter), timerDelay(timeoutMs))
        : setInterval(() => undefined, MAX_TIMER_MS);
      this.#waiters.push(waiter);
    });
  }

  /** Resolves the waiters whose entries are all settled: every entry below `lowestUnsettledSeq`. */
  settle(lowestUnsettledSeq: number): void {
    if (this.#waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.seq <= lowestUnsettledSeq) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  #deadlinePassed(waiter: Waiter): void {
    this.#waiters = this.#waiters.filter((other) => other !== waiter);
    this.#expiredSeq = Math.max(this.#expiredSeq, waiter.seq);
    if (this.#waiters.length === 0) this.#onAbandon(this.#expiredSeq);
    waiter.resolve();
  }
}
