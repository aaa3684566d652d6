/**
 * The batching policy: how long a request that is not full waits for more entries.
 *
 * Every request costs a fixed amount of CPU in the HTTP client, whatever it carries, so a busy application should
 * send few, full requests; a quiet one should not make its entries wait. The policy paces requests that are not
 * full: a request leaves once at least the quiet interval (100 ms, or `maxDelayMs` when that is shorter) has passed
 * since the previous one left, and either the pacing interval has passed too or entries have stopped coming for a
 * quiet interval. The pacing interval is the quiet one while entries arrive at up to 100 per second, and grows with
 * the rate above that, by 1 ms per entry per second (500 ms at 500 entries/s), up to `maxDelayMs`. A lone entry
 * after a quiet spell therefore leaves at once, a slow application's entries and a burst's tail wait about the quiet
 * interval, and a busy application's requests fill up: about one per second at 1,000 entries/s, and full ones above
 * that (they leave without waiting: the engine's part, as does `finish()`). No entry waits longer than
 * `maxDelayMs`, or than the request in flight takes when that is longer.
 * @module
 */

/** The pacing interval of a quiet application, in ms. */
export const QUIET_INTERVAL_MS = 100;

/** `batch.maxDelayMs` by default, for `'http'` and every backend protocol alike. */
export const DEFAULT_MAX_DELAY_MS = 1000;

/**
 * How long, from `nowMs`, the next request that is not full should wait, in ms (0: send at once). Until the quiet
 * interval has passed since the previous request, what is left of it. After that, what is left of the interval for
 * the rate at which entries came since, unless they have stopped coming for a quiet interval (the tail of a burst:
 * what came is all there is for now); a caller that waits and asks again waits as long as the rate says.
 * @param maxDelayMs - the longest wait; 0 sends at once whenever the previous request is done.
 * @param lastSentMs - when the previous request took its entries (`-Infinity` before the first).
 * @param arrived - entries that came since the previous request took its entries.
 * @param lastArrivalMs - when the last of them came.
 */
export function lingerMs(
  maxDelayMs: number,
  lastSentMs: number,
  nowMs: number,
  arrived: number,
  lastArrivalMs: number,
): number {
  if (maxDelayMs <= 0) return 0;
  const quietMs = Math.min(QUIET_INTERVAL_MS, maxDelayMs);
  const sinceMs = nowMs - lastSentMs;
  // Bounded: a clock set back must not make a request wait longer than the quiet interval (the caller, which asks
  // again after waiting, moves its lastSentMs back to now).
  if (!(sinceMs >= quietMs)) return Math.min(quietMs, quietMs - sinceMs);
  const perSecond = arrived === 0 ? 0 : (arrived * 1000) / sinceMs;
  const intervalMs = Math.min(maxDelayMs, Math.max(quietMs, perSecond * MS_PER_ENTRY_PER_SECOND));
  const leftMs = intervalMs - sinceMs;
  const silentMs = Math.max(0, nowMs - lastArrivalMs);
  if (leftMs <= 0 || silentMs >= quietMs) return 0;
  // Asked again once the entries would have stopped for a quiet interval, if none comes meanwhile.
  return Math.min(leftMs, quietMs - silentMs);
}

/**
 * How much the interval grows per entry per second of arrival rate, in ms: at 100 entries/s it is the quiet
 * interval, and a request paced at rate `r` carries about `r² / 1000` entries (1,000 at 1,000 entries/s).
 */
const MS_PER_ENTRY_PER_SECOND = 1;
