/** The longest delay `setTimeout` honours, in ms (about 24.8 days): a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay `setTimeout` honours: at least 0, at most {@link MAX_TIMER_MS}. */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}

/**
 * Calls `callback` after `ms` (see {@link timerDelay}) without keeping the process alive for it: whether the
 * process waits is decided elsewhere (the engine's hold timer).
 */
export function unrefTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(callback, timerDelay(ms));
  timer.unref();
  return timer;
}
