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
 * The values a request carries that must never be printed: every header value (also as sent, without the spaces at
 * its ends) and, for `<scheme> <credentials>` values such as `Splunk <token>`, the credentials alone (for `Basic`,
 * also the `user:password` they encode, and the password); the URL's password (or, without one, its user name: a
 * token given as the user), the Basic credentials made from its user info, its query string and query values. Each
 * also in the forms a server may echo it in: percent-encoded (either case of hex digits), JSON-escaped (`/` as `\/`
 * too) and HTML-escaped.
 */
export function secretsOf(url: string, headers: Readonly<Record<string, string>>): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(headers)) {
    const sent = value.trim();
    const space = sent.indexOf(' ');
    const credentials = sent.slice(space + 1).trim();
    secrets.push(value, sent, credentials);
    if (space > 0 && sent.slice(0, space).toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      secrets.push(decoded, decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  try {
    const parsed = new URL(url);
    const { username, password } = parsed;
    secrets.push(password, safeDecode(password), parsed.search.slice(1));
    if (password === '') secrets.push(username, safeDecode(username));
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
  return [...new Set(secrets.flatMap(echoedForms).filter((secret) => secret.length >= MIN_SECRET_CHARS))].sort(
    (a, b) => b.length - a.length,
  );
}

/** `secret`, and the forms a server may write it back in (see {@link secretsOf}). */
function echoedForms(secret: string): string[] {
  const percent = encodeURIComponent(secret);
  const json = JSON.stringify(secret).slice(1, -1);
  const html = secret.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  const htmlNamed = secret.replace(/[&<>"]/g, (char) => HTML_ENTITIES[char] as string);
  return [
    secret,
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    json,
    json.replaceAll('/', '\\/'),
    html,
    htmlNamed,
  ];
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * `text` from a server made fit for a one-line diagnostic: every one of `secrets` masked (before anything else, so
 * that a secret holding a tab or a line break is found as sent), without control characters or runs of blanks,
 * cut to {@link MAX_DETAIL_CHARS}.
 */
export function redactedLine(text: string, secrets: readonly string[]): string {
  let line = text;
  for (const secret of secrets) line = line.split(secret).join(MASK);
  line = line.replace(CONTROL_CHARACTERS, ' ').replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS - 1)}…` : line;
}

/**
 * The server's explanation in an error answer's body, or `undefined` when it gives none worth printing (an empty
 * or HTML body, or one that only repeats the status text).
 * @param secrets - values to mask wherever they appear (see {@link secretsOf}).
 * @param statusText - the status's reason phrase, left out when the body says nothing more.
 * @param cut - the body is the start of a longer one: it may end in the first part of a secret.
 */
export function failureDetail(
  body: string,
  secrets: readonly string[],
  statusText = '',
  cut = false,
): string | undefined {
  const trimmed = cut ? withCutSecretMasked(body.trim(), secrets) : body.trim();
  if (trimmed === '' || trimmed.length > MAX_BODY_CHARS || trimmed.startsWith('<')) return undefined;
  const raw = /^[{["]/.test(trimmed) ? jsonDetail(parseOrUndefined(trimmed), 0) : firstLine(trimmed);
  if (raw === undefined) return undefined;
  const detail = redactedLine(raw, secrets);
  if (detail === '' || detail.toLowerCase() === statusText.toLowerCase()) return undefined;
  return detail;
}

/**
 * `text`, the start of a longer body, with the first part of a secret it ends with masked: the cut may fall
 * inside an echoed secret, which is then not found whole.
 */
function withCutSecretMasked(text: string, secrets: readonly string[]): string {
  // A cut inside a character of several bytes leaves U+FFFD in its place: the secret's part ends before it.
  const whole = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
  let longest = 0;
  for (const secret of secrets)
    for (let length = Math.min(secret.length - 1, whole.length); length > longest; length--)
      if (whole.endsWith(secret.slice(0, length))) longest = length;
  return longest === 0 ? text : `${whole.slice(0, -longest)}${MASK}`;
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
