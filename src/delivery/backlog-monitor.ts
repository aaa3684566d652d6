/** When a backlog counts as falling behind. */
export interface BacklogThresholds {
  /** The oldest entry in memory has waited longer than this, in ms. */
  readonly maxAgeMs: number;
  /** More entries than this are in memory. */
  readonly maxEntries: number;
}

/** What the backlog looked like when it started falling behind. */
export interface BacklogReport {
  /** Entries in memory (queued or in flight). */
  readonly entries: number;
  /** How long the oldest of them has waited, in ms. */
  readonly oldestMs: number;
  /** Entries accepted per second since the backlog was last small. */
  readonly acceptedPerSecond: number;
  /** Entries sent (delivered or given up by the server) per second over the same time. */
  readonly sentPerSecond: number;
}

/** Where a {@link BacklogMonitor} reports. */
export interface BacklogListener {
  /** The backlog crossed a threshold: once per episode. */
  onFallingBehind(report: BacklogReport): void;
  /** The backlog is back under half of both thresholds, `behindMs` after it fell behind. */
  onCaughtUp(behindMs: number): void;
}

/** A moment's counts, from which the rates of an episode are taken. */
interface Sample {
  timeMs: number;
  accepted: number;
  sent: number;
}

/**
 * Watches the backlog of entries in memory and says, once per episode, when it falls behind (a threshold crossed)
 * and when it has caught up (back under half of both thresholds: the gap keeps a backlog hovering at a threshold
 * from printing a line at every entry). It is handed the numbers; it reads no clock and keeps no timer.
 */
export class BacklogMonitor {
  readonly #thresholds: BacklogThresholds;
  readonly #listener: BacklogListener;
  /** When the current episode started; `undefined` while keeping up. */
  #behindSince: number | undefined;
  /** The counts the last time the backlog was small: the rates of an episode are measured from there. */
  readonly #lastSmall: Sample = { timeMs: 0, accepted: 0, sent: 0 };

  /** @param startMs - the current time: the backlog is small at the start. */
  constructor(thresholds: BacklogThresholds, listener: BacklogListener, startMs: number) {
    this.#thresholds = thresholds;
    this.#listener = listener;
    this.#lastSmall.timeMs = startMs;
  }

  /** True between a falling-behind report and the matching caught-up one. */
  get behind(): boolean {
    return this.#behindSince !== undefined;
  }

  /**
   * Looks at the backlog now.
   * @param nowMs - the current time.
   * @param entries - entries in memory.
   * @param oldestAtMs - when the oldest of them was accepted (ignored when `entries` is 0).
   * @param accepted - entries accepted since the start.
   * @param sent - entries sent since the start (delivered, or refused by the server).
   */
  check(nowMs: number, entries: number, oldestAtMs: number, accepted: number, sent: number): void {
    const { maxAgeMs, maxEntries } = this.#thresholds;
    const ageMs = entries === 0 ? 0 : nowMs - oldestAtMs;
    const small = ageMs <= maxAgeMs / 2 && entries <= maxEntries / 2;
    if (this.#behindSince !== undefined) {
      if (!small) return;
      this.#listener.onCaughtUp(nowMs - this.#behindSince);
      this.#behindSince = undefined;
    } else if (ageMs > maxAgeMs || entries > maxEntries) {
      this.#behindSince = nowMs;
      const since = this.#lastSmall;
      const seconds = Math.max(nowMs - since.timeMs, 1) / 1000;
      this.#listener.onFallingBehind({
        entries,
        oldestMs: ageMs,
        acceptedPerSecond: Math.round((accepted - since.accepted) / seconds),
        sentPerSecond: Math.round((sent - since.sent) / seconds),
      });
      return;
    }
    if (small) {
      this.#lastSmall.timeMs = nowMs;
      this.#lastSmall.accepted = accepted;
      this.#lastSmall.sent = sent;
    }
  }
}
