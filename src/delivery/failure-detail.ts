/**
 * What a server says about a request it refused, made fit for a one-line diagnostic: the message of a JSON error
 * body (or the first line of a text one), without control characters, cut to a readable length, and with every
 * secret the request carried masked, in case the server echoes it.
 * @module
 */

/** Longest detail kept, in characters. */
export const MAX_DETAIL_CHARS = 200;
/** Larger bodies are not read: an error answer is short, and parsing a large one is not worth it. */
const MAX_BODY_CHARS = 64 * 1024;
/**
 * Shorter values are not looked for: a value of one to three characters is no credential, and masking every
 * occurrence of, say, a tenant id `1` would mangle the text.
 */
const MIN_SECRET_CHARS = 4;
const MASK = '[redacted]';
/** C0 and C1 controls: line breaks and terminal escape sequences have no place in a one-line diagnostic. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The fields error bodies put their explanation in, most specific first (Splunk `text`, Elasticsearch `reason`, …). */
const DETAIL_KEYS = ['text', 'message', 'reason', 'detail', 'title', 'error', 'errors', 'error_description'];
/** How deep {@link jsonDetail} looks: `{ error: { root_cause: [{ reason }] } }` is as deep as real bodies go. */
const MAX_DEPTH = 3;

/**
 * The values a request carries that must never be printed: every header value and, for `<scheme> <credentials>`
 * values such as `Splunk <token>`, the credentials alone; and the URL's password, the Basic credentials made from
 * its user info, its query string and query values.
 */
export function secretsOf(url: string, headers: Readonly<Record<string, string>>): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(headers)) {
    const space = value.indexOf(' ');
    secrets.push(value, value.slice(space + 1));
  }
  try {
    const parsed = new URL(url);
    const { username, password } = parsed;
    secrets.push(password, safeDecode(password), parsed.search.slice(1));
    // The Basic credentials an HTTP client derives from the user info.
    if (username !== '' || password !== '') {
      for (const [user, pass] of [
        [username, password],
        [safeDecode(username), safeDecode(password)],
      ]) {
        secrets.push(Buffer.from(`${user}:${pass}`).toString('base64'));
      }
    }
    for (const value of parsed.searchParams.values()) secrets.push(value);
    // Each value as written too (percent-encoded, or with a '+' that searchParams reads as a space), and as a
    // server that decodes only %XX reads it: a server echoes what it got, not what URLSearchParams makes of it.
    for (const pair of parsed.search.slice(1).split('&')) {
      const value = pair.slice(pair.indexOf('=') + 1);
      secrets.push(pair, value, safeDecode(value));
    }
  } catch {
    // Not a URL: nothing in it to add.
  }
  // Longest first, so that a value is masked whole before any part of it is.
  return [...new Set(secrets.filter((secret) => secret.length >= MIN_SECRET_CHARS))].sort(
    (a, b) => b.length - a.length,
  );
}

/**
 * The server's explanation in an error answer's body, or `undefined` when it gives none worth printing (an empty
 * or HTML body, or one that only repeats the status text).
 * @param secrets - values to mask wherever they appear (see {@link secretsOf}).
 * @param statusText - the status's reason phrase, left out when the body says nothing more.
 */
export function failureDetail(body: string, secrets: readonly string[], statusText = ''): string | undefined {
  const trimmed = body.trim();
  if (trimmed === '' || trimmed.length > MAX_BODY_CHARS || trimmed.startsWith('<')) return undefined;
  const raw = /^[{["]/.test(trimmed) ? jsonDetail(parseOrUndefined(trimmed), 0) : firstLine(trimmed);
  if (raw === undefined) return undefined;
  let detail = raw.replace(CONTROL_CHARACTERS, ' ');
  for (const secret of secrets) detail = detail.split(secret).join(MASK);
  detail = detail.replace(/\s+/g, ' ').trim();
  if (detail === '' || detail.toLowerCase() === statusText.toLowerCase()) return undefined;
  return detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail;
}

function jsonDetail(value: unknown, depth: number): string | undefined {
  if (typeof value === 'string') return value;
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return jsonDetail(value[0], depth + 1);
  for (const key of DETAIL_KEYS) {
    const detail = jsonDetail((value as Record<string, unknown>)[key], depth + 1);
    if (detail !== undefined && detail.trim() !== '') return detail;
  }
  return undefined;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
