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
  /** Entries accepted per second since the backlog was last small, or over the time it grew. */
  readonly acceptedPerSecond: number;
  /** Entries sent (delivered or given up by the server) per second over the same time. */
  readonly sentPerSecond: number;
}

/** Where a {@link BacklogMonitor} reports. */
export interface BacklogListener {
  /** The backlog crossed a threshold, or kept growing: once per episode. */
  onFallingBehind(report: BacklogReport): void;
  /** The backlog is small again (see {@link BacklogMonitor}), `behindMs` after it fell behind. */
  onCaughtUp(behindMs: number): void;
}

/**
 * The growth watch looks at the backlog in buckets of this long (at least: a bucket ends at the first check after
 * it). A second smooths over an application that logs in bursts once a second (a load generator's, or a timer's),
 * and over a sender that gets its turns in bursts on a busy event loop.
 */
const GROWTH_BUCKET_MS = 1000;
/**
 * Growing means: this many buckets in a row each ended with more than it began with and saw a smallest backlog above
 * the bucket before's: the first rise 1 to 2 s after the growth began, the second 1 s later.
 */
const GROWTH_RISES = 2;
/** ... while the entries accepted over those buckets were more than this many times the entries sent. */
const GROWTH_MARGIN = 1.1;
/** ... and the backlog never fell below this share of `maxEntries` in the last of them. */
const GROWTH_FLOOR_SHARE = 0.1;

/** A moment's counts, from which the rates of an episode are taken. */
interface Sample {
  timeMs: number;
  accepted: number;
  sent: number;
}

function copySample(to: Sample, from: Sample): void {
  to.timeMs = from.timeMs;
  to.accepted = from.accepted;
  to.sent = from.sent;
}

function setSample(to: Sample, timeMs: number, accepted: number, sent: number): void {
  to.timeMs = timeMs;
  to.accepted = accepted;
  to.sent = sent;
}

/**
 * Watches the backlog of entries in memory and says, once per episode, when it falls behind and when it has caught
 * up. Falling behind is either of:
 *
 * - a hard limit crossed: the oldest entry waited over `maxAgeMs`, or over `maxEntries` are in memory;
 * - growth: the backlog kept growing for 2 to 3 s (in two 1 s buckets in a row, it ended with more than it began
 *   with and its smallest was above the bucket before's), a tenth more was accepted than sent in those buckets, and
 *   the backlog stayed at or above a tenth of `maxEntries` throughout the last of them. A limit on age reacts late to
 *   a backlog that grows at a fraction of the arrival rate (its oldest entry ages at that fraction of the time
 *   passing); the floor keeps a quiet application's few entries silent, and taking each bucket's smallest backlog
 *   keeps a burst that the sender drains within a bucket from counting as growth.
 *
 * Caught up: the backlog is small again, at most half the growth floor with its oldest entry waiting at most half
 * of `maxAgeMs` (the gap keeps a backlog hovering at a threshold from printing a line pair at every entry).
 *
 * It is handed the numbers at every check and reads no clock and keeps no timer: buckets end at the first check
 * after their time, however far apart checks come (on a busy event loop, at every entry logged). O(1) per check;
 * allocates nothing.
 */
export class BacklogMonitor {
  readonly #thresholds: BacklogThresholds;
  readonly #listener: BacklogListener;
  /** The growth watch's floor, in entries. */
  readonly #floor: number;
  /** When the current episode started; `undefined` while keeping up. */
  #behindSince: number | undefined;
  /** The counts the last time the backlog was small: the rates of a limit crossed are measured from there. */
  readonly #lastSmall: Sample = { timeMs: 0, accepted: 0, sent: 0 };
  /** The counts when the current bucket began, the backlog then, and the smallest backlog seen in it. */
  readonly #bucket: Sample = { timeMs: 0, accepted: 0, sent: 0 };
  #bucketFirst = 0;
  #bucketMin = 0;
  /** The smallest backlog of the bucket before (`Infinity` for none: nothing rises above it). */
  #previousMin = Infinity;
  /** How many buckets in a row have risen, and the counts when the first of them began. */
  #rises = 0;
  readonly #growthStart: Sample = { timeMs: 0, accepted: 0, sent: 0 };

  /** @param startMs - the current time: the backlog is empty at the start. */
  constructor(thresholds: BacklogThresholds, listener: BacklogListener, startMs: number) {
    this.#thresholds = thresholds;
    this.#listener = listener;
    this.#floor = thresholds.maxEntries * GROWTH_FLOOR_SHARE;
    this.#lastSmall.timeMs = startMs;
    this.#bucket.timeMs = startMs;
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
    const grew = this.#grew(nowMs, entries, accepted, sent);
    const crossed = ageMs > maxAgeMs || entries > maxEntries;
    const small = ageMs <= maxAgeMs / 2 && entries <= this.#floor / 2;
    if (this.#behindSince !== undefined) {
      if (!small) return;
      this.#listener.onCaughtUp(nowMs - this.#behindSince);
      this.#behindSince = undefined;
    } else if (crossed || grew) {
      this.#behindSince = nowMs;
      const since = crossed ? this.#lastSmall : this.#growthStart;
      const seconds = Math.max(nowMs - since.timeMs, 1) / 1000;
      this.#listener.onFallingBehind({
        entries,
        oldestMs: ageMs,
        acceptedPerSecond: Math.round((accepted - since.accepted) / seconds),
        sentPerSecond: Math.round((sent - since.sent) / seconds),
      });
      return;
    }
    if (small) setSample(this.#lastSmall, nowMs, accepted, sent);
  }

  /**
   * Keeps the buckets; true when a bucket ends with the backlog found growing (see {@link BacklogMonitor}). A bucket
   * rises when its smallest backlog is above the bucket before's and it ends with more than it began with: a bucket
   * that drains a surge has its smallest backlog at its end, which may still be above where the surge began.
   */
  #grew(nowMs: number, entries: number, accepted: number, sent: number): boolean {
    if (nowMs < this.#bucket.timeMs + GROWTH_BUCKET_MS) {
      if (entries < this.#bucketMin) this.#bucketMin = entries;
      return false;
    }
    const endedMin = this.#bucketMin;
    if (endedMin > this.#previousMin && entries > this.#bucketFirst) {
      if (this.#rises === 0) copySample(this.#growthStart, this.#bucket);
      this.#rises++;
    } else {
      this.#rises = 0;
    }
    this.#previousMin = endedMin;
    setSample(this.#bucket, nowMs, accepted, sent);
    this.#bucketFirst = entries;
    this.#bucketMin = entries;
    const start = this.#growthStart;
    return (
      this.#rises >= GROWTH_RISES &&
      endedMin >= this.#floor &&
      accepted - start.accepted > GROWTH_MARGIN * (sent - start.sent)
    );
  }
}
