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
 * 408, 429 and every 5xx: for backends whose own clients retry any server error (Datadog's Agent, Loki's Promtail
 * and Grafana Alloy).
 */
export function isServerErrorOrThrottle(statusCode: number): boolean {
  return statusCode === 408 || statusCode === 429 || (statusCode >= 500 && statusCode <= 599);
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
 * Reads a `Retry-After` header: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, or one of
 * the two obsolete formats that RFC 9110 still has recipients read).
 * @returns the wait in ms (0 for a date in the past), or `undefined` when the header is absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = parseHttpDate(text, nowMs);
  return date === undefined ? undefined : Math.max(0, date - nowMs);
}

const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT`: the IMF-fixdate every server should send. */
const IMF_FIXDATE = new RegExp(`^${WEEKDAY}, +(?<day>\\d{1,2}) +${MONTH} +(?<year>\\d{4}) +${TIME} +GMT$`, 'i');
/** `Sunday, 06-Nov-94 08:49:37 GMT`: obsolete, with a two-digit year. */
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), +(?<day>\\d{1,2})-${MONTH}-(?<year>\\d{2}) +${TIME} +GMT$`,
  'i',
);
/** `Sun Nov  6 08:49:37 1994`: obsolete, and in UTC although it names no zone. */
const ASCTIME_DATE = new RegExp(`^${WEEKDAY} +${MONTH} +(?<day>\\d{1,2}) +${TIME} +(?<year>\\d{4})$`, 'i');
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Reads an HTTP date in any of the three formats a recipient must accept (RFC 9110 §5.6.7), always in UTC. Nothing
 * else: `Date.parse` reads almost any text with a number in it as some date (`x 2099`, `in 5`), and an asctime date
 * as local time.
 * @returns the time in ms since the epoch, or `undefined` for anything that is not such a date.
 */
function parseHttpDate(text: string, nowMs: number): number | undefined {
  const fields = (IMF_FIXDATE.exec(text) ?? RFC850_DATE.exec(text) ?? ASCTIME_DATE.exec(text))?.groups;
  if (fields === undefined) return undefined;
  const field = (name: string): number => Number(fields[name]);
  const [day, hour, minute, second] = [field('day'), field('hour'), field('minute'), field('second')];
  const year = fields.year?.length === 2 ? rfc850Year(field('year'), nowMs) : field('year');
  const ms = Date.UTC(year, MONTHS.indexOf(String(fields.month).toLowerCase()), day, hour, minute, second);
  // Date.UTC rolls a day or time that does not exist over (31 Feb is 3 March): such a date is unreadable.
  if (new Date(ms).getUTCDate() !== day || hour > 23 || minute > 59 || second > 60) return undefined;
  return ms;
}

/**
 * The year of an rfc850-date's two digits: this century's, unless that is more than 50 years ahead, then the
 * century before's (RFC 9110 §5.6.7).
 */
function rfc850Year(twoDigits: number, nowMs: number): number {
  const thisYear = new Date(nowMs).getUTCFullYear();
  const year = thisYear - (thisYear % 100) + twoDigits;
  return year > thisYear + 50 ? year - 100 : year;
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
