/**
 * Server URLs: validation at the API boundary and redaction for diagnostics.
 * @module
 */

/** A validated log server, created once per configured URL and shared by every entry logged to it. */
export interface ServerTarget {
  /** The URL as given, with credentials and query string intact: used for requests only. */
  readonly url: string;
  /** The URL without user info, query string or fragment: the only form that appears in diagnostics. */
  readonly displayUrl: string;
}

/**
 * Removes user info, query string and fragment from a URL, for diagnostics.
 * @returns `protocol//host/path`, or `"<invalid URL>"` when `url` does not parse.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return '<invalid URL>';
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * Validates an http(s) server URL.
 * @param input - the URL to check.
 * @param what - how the caller names the value in the error (for example `option "url"`).
 * @throws TypeError naming `what` when `input` is not an absolute http: or https: URL; the message never
 *   contains the URL's user info or query string.
 */
export function parseServerUrl(input: unknown, what: string): ServerTarget {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new TypeError(`winston-logstream: ${what} must be an http(s) URL string or URL, got ${typeName(input)}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(String(input));
  } catch {
    throw new TypeError(`winston-logstream: ${what} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`winston-logstream: ${what} must use http: or https:, not ${parsed.protocol}`);
  }
  // got (and the drain at exit) decode the user info for Basic auth at every request: a "%" that starts no valid
  // escape would make every request fail, so it is refused here. The user info itself is never echoed.
  if (!isDecodable(parsed.username) || !isDecodable(parsed.password)) {
    throw new TypeError(
      `winston-logstream: ${what} has a "%" in its user name or password that starts no valid percent-escape: write "%" as "%25"`,
    );
  }
  return { url: parsed.href, displayUrl: redactUrl(parsed) };
}

function isDecodable(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function typeName(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
