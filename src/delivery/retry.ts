/** Retry policy: which failures are worth another attempt, and how long to wait before it. */

/** When and how a failed request is tried again. */
export interface RetryPolicy {
  /** First backoff ceiling in ms. */
  readonly minDelayMs: number;
  /** Largest wait between attempts in ms; also caps `Retry-After`. */
  readonly maxDelayMs: number;
  /** Give a request up after this long since its first attempt, in ms (`Infinity`: never). */
  readonly maxElapsedMs: number;
}

/**
 * HTTP statuses that mean "try again later": everything else that is not 2xx is final. got's default list, but 413
 * (the engine halves the batch instead): with Cloudflare's 521 (origin down), 522 (origin connection timed out) and
 * 524 (origin timed out), which a restarting server behind Cloudflare answers.
 */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504, 521, 522, 524]);

/** True for a status that is worth retrying. */
export function isRetryableStatus(statusCode: number): boolean {
  return RETRYABLE_STATUSES.has(statusCode);
}

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(maxDelayMs, minDelayMs·2^attempt)],
 * so that many senders recovering together do not retry in lockstep.
 * @param attempt - 0 for the wait after the first failure.
 * @param random - a source of [0, 1), `Math.random` by default.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

/**
 * The wait before the next attempt: the backoff, or the server's `Retry-After` when that is longer (it is the least
 * the server asked for), never more than `maxDelayMs`. Taking the longer of the two keeps a server that answers
 * `Retry-After: 0` from drawing a retry storm.
 * @param attempt - 0 for the wait after the first failure.
 * @param retryAfterMs - the failed answer's `Retry-After`, in ms, if it had one.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.min(policy.maxDelayMs, Math.max(retryAfterMs ?? 0, backoffDelay(attempt, policy, random)));
}

/**
 * Reads a `Retry-After` header: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`).
 * @returns the wait in ms (0 for a date in the past), or `undefined` when the header is absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse reads almost anything ("1.5", "-5"); an HTTP date always names its month and zone.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Network error codes after which the same request may well succeed. */
const RETRYABLE_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * A network error after which the same request may well succeed: a refused, reset or broken connection, a DNS
 * failure, or an answer the HTTP parser could not read (`HPE_*`: garbage from a proxy or a restarting server,
 * which a reset would equally have cut short).
 */
export function isRetryableErrorCode(code: string): boolean {
  return RETRYABLE_ERROR_CODES.has(code) || code.startsWith('HPE_');
}
