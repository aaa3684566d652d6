/** Timestamps in the forms the encoders need, cheap at high rates. */

let cachedMs = Number.NaN;
let cachedIso = '';
/** The start of the second last formatted (ms since the epoch), and its text up to the seconds (`…T14:13:05`). */
let secondStartMs = Number.NaN;
let secondText = '';
/** The latest time a Date can hold, in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;
/** `.000Z` to `.999Z`, the end of every timestamp. */
const MILLISECOND_ENDINGS = Array.from({ length: 1000 }, (_, ms) => `.${String(ms).padStart(3, '0')}Z`);

/**
 * RFC 3339 UTC with milliseconds (`Date#toISOString` form). Entries logged within the same millisecond share
 * one string; within the same second, only the milliseconds are formatted: an application logging one entry per
 * request logs each in a new millisecond, and `toISOString()` costs about 20 times as much.
 */
export function isoTimestamp(ms: number): string {
  if (ms !== cachedMs) {
    const withinSecond = ms - secondStartMs;
    if (withinSecond >= 0 && withinSecond < 1000 && Number.isInteger(withinSecond) && ms <= MAX_DATE_MS) {
      cachedIso = secondText + (MILLISECOND_ENDINGS[withinSecond] as string);
    } else {
      // Throws a RangeError for a time a Date cannot hold, as it did before this cache.
      cachedIso = new Date(ms).toISOString();
      // `.mmmZ` ends it; what is before holds for the whole second. A Date truncates a fractional ms toward zero.
      const whole = Math.trunc(ms);
      secondStartMs = whole - (((whole % 1000) + 1000) % 1000);
      secondText = cachedIso.slice(0, -5);
    }
    cachedMs = ms;
  }
  return cachedIso;
}

/**
 * Nanoseconds since the Unix epoch as a decimal string (OTLP, Loki), from a millisecond time, plus `extraNs`
 * (0 to 999,999; for a time since the epoch, not before it).
 */
export function unixNanoString(ms: number, extraNs = 0): string {
  return extraNs === 0 ? `${Math.trunc(ms)}000000` : `${Math.trunc(ms)}${String(extraNs).padStart(6, '0')}`;
}

/** Seconds since the Unix epoch with exactly three decimals (`1433188255.500`), from a millisecond time (Splunk HEC). */
export function epochSecondsText(ms: number): string {
  const whole = Math.trunc(ms);
  return `${Math.floor(whole / 1000)}.${String(((whole % 1000) + 1000) % 1000).padStart(3, '0')}`;
}
