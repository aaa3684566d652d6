/** Timestamps in the forms the encoders need, cheap at high rates. */

let cachedMs = Number.NaN;
let cachedIso = '';

/**
 * RFC 3339 UTC with milliseconds (`Date#toISOString` form). Entries logged within the same millisecond share
 * one string instead of formatting a new one each.
 */
export function isoTimestamp(ms: number): string {
  if (ms !== cachedMs) {
    cachedIso = new Date(ms).toISOString();
    cachedMs = ms;
  }
  return cachedIso;
}

/** Nanoseconds since the Unix epoch as a decimal string (OTLP, Loki), from a millisecond time. */
export function unixNanoString(ms: number): string {
  return `${Math.trunc(ms)}000000`;
}

/** Seconds since the Unix epoch with exactly three decimals (`1433188255.500`), from a millisecond time (Splunk HEC). */
export function epochSecondsText(ms: number): string {
  const whole = Math.trunc(ms);
  return `${Math.floor(whole / 1000)}.${String(((whole % 1000) + 1000) % 1000).padStart(3, '0')}`;
}
