/**
 * The batching policy: how long a request that is not full waits for more entries.
 *
 * Every request costs a fixed amount of CPU in the HTTP client, whatever it carries, so a busy application should
 * send few, full requests; a quiet one should not make its entries wait. The policy paces requests that are not
 * full to one per `maxDelayMs`: a request leaves at once when the previous one left at least `maxDelayMs` ago, and
 * otherwise `maxDelayMs` after it. A lone entry after a quiet spell therefore leaves at once; while entries keep
 * coming, each request carries what arrived over about `maxDelayMs` (more as the rate grows), and requests that are
 * not full leave at most `1000 / maxDelayMs` times per second. No entry waits longer than `maxDelayMs`, or than the
 * request in flight takes when that is longer. A full batch, or a `finish()` call, does not wait (the engine's part).
 * @module
 */

/**
 * How long, from `nowMs`, the next request that is not full should wait, in ms (0: send at once).
 * @param maxDelayMs - the pacing interval; 0 sends at once whenever the previous request is done.
 * @param lastSentMs - when the previous request took its entries (`-Infinity` before the first).
 */
export function lingerMs(maxDelayMs: number, lastSentMs: number, nowMs: number): number {
  // Bounded both ways: a clock set back must not make a request wait longer than maxDelayMs.
  return Math.min(maxDelayMs, Math.max(0, lastSentMs + maxDelayMs - nowMs));
}
